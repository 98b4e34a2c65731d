using System.Globalization;
using System.Text.Unicode;
using Kubesharp.ApiMachinery.Errors;

namespace Kubesharp.ApiMachinery.Serialization;

/// <summary>
/// Refuses request bodies that are not well-formed Unicode before they are decoded: invalid UTF-8 sequences, and in
/// JSON, \u escapes naming half of a surrogate pair. Such text cannot be stored and served back as the same
/// string, so it is a 400 BadRequest instead of a value that fails later.
/// </summary>
public static class TextEncodingCheck
{
    public static void EnsureUtf8(ReadOnlySpan<byte> text)
    {
        if (!Utf8.IsValid(text))
        {
            throw StatusException.BadRequest(string.Create(CultureInfo.InvariantCulture, $"the request body is not valid UTF-8 (at byte {InvalidOffset(text)})"));
        }
    }

    /// <summary>Valid UTF-8 and no unpaired surrogate escapes (a backslash occurs only inside strings in valid JSON).</summary>
    public static void EnsureJsonText(ReadOnlySpan<byte> json)
    {
        EnsureUtf8(json);
        for (var i = json.IndexOf((byte)'\\'); i >= 0 && i < json.Length; i++)
        {
            if (json[i] != '\\' || i + 1 >= json.Length)
            {
                continue;
            }

            if (json[i + 1] != 'u')
            {
                i++;
                continue;
            }

            var unit = Hex(json, i + 2);
            if (unit is >= 0xD800 and <= 0xDBFF)
            {
                var next = i + 6 + 1 < json.Length && json[i + 6] == '\\' && json[i + 7] == 'u' ? Hex(json, i + 8) : -1;
                if (next is < 0xDC00 or > 0xDFFF)
                {
                    throw Unpaired(unit, i);
                }

                i += 11;
            }
            else if (unit is >= 0xDC00 and <= 0xDFFF)
            {
                throw Unpaired(unit, i);
            }
            else
            {
                i += 5;
            }
        }
    }

    private static int Hex(ReadOnlySpan<byte> json, int start) =>
        start + 4 <= json.Length && int.TryParse(System.Text.Encoding.ASCII.GetString(json.Slice(start, 4)), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value) ? value : -1;

    private static StatusException Unpaired(int unit, int offset) =>
        StatusException.BadRequest(string.Create(CultureInfo.InvariantCulture, $"json parse error: unpaired surrogate \\u{unit:x4} at byte {offset}"));

    private static int InvalidOffset(ReadOnlySpan<byte> text)
    {
        var offset = 0;
        while (offset < text.Length)
        {
            var status = System.Text.Rune.DecodeFromUtf8(text[offset..], out _, out var consumed);
            if (status != System.Buffers.OperationStatus.Done)
            {
                return offset;
            }

            offset += consumed;
        }

        return offset;
    }
}
