using System.Globalization;
using System.Text;

namespace Kubesharp.ApiServer.Http;

/// <summary>
/// Warning header values (<c>299 - "text"</c>): the text is quoted with backslash escapes, and characters a header
/// may not carry (non-ASCII, controls) are written as \u escapes, so a field name from a request never breaks the response.
/// </summary>
internal static class WarningHeader
{
    public static string Format(string text)
    {
        var builder = new StringBuilder("299 - \"", text.Length + 10);
        foreach (var c in text)
        {
            switch (c)
            {
                case '"' or '\\':
                    builder.Append('\\').Append(c);
                    break;
                case < ' ' or > '~':
                    builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }

        return builder.Append('"').ToString();
    }
}
