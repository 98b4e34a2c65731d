using Kubesharp.ApiMachinery.Validation;

namespace Kubesharp.ApiMachinery.Tests.Validation;

public sealed class NameValidationTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("my-name")]
    [InlineData("123-abc")]
    public void IsDns1123Label_Valid_NoErrors(string value) => Assert.Empty(NameValidation.IsDns1123Label(value));

    [Fact]
    public void IsDns1123Label_Uppercase_RegexMessage()
    {
        var errors = NameValidation.IsDns1123Label("My-Name");

        Assert.Equal(
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
            Assert.Single(errors));
    }

    [Fact]
    public void IsDns1123Label_Dots_MustNotContainDots()
    {
        Assert.Equal("must not contain dots", Assert.Single(NameValidation.IsDns1123Label("a.b")));
    }

    [Fact]
    public void IsDns1123Label_TooLong_BothMessages()
    {
        var errors = NameValidation.IsDns1123Label(new string('a', 64));

        Assert.Equal("must be no more than 63 characters", Assert.Single(errors));
    }

    [Theory]
    [InlineData("example.com")]
    [InlineData("a")]
    [InlineData("a-b.c-d")]
    public void IsDns1123Subdomain_Valid_NoErrors(string value) => Assert.Empty(NameValidation.IsDns1123Subdomain(value));

    [Theory]
    [InlineData("")]
    [InlineData("-a")]
    [InlineData("a_b")]
    [InlineData("a..b")]
    [InlineData("a\n")]
    public void IsDns1123Subdomain_Invalid_RegexMessage(string value)
    {
        Assert.Equal(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            Assert.Single(NameValidation.IsDns1123Subdomain(value)));
    }

    [Fact]
    public void IsDns1123Subdomain_TooLong_ReportsLength()
    {
        Assert.Contains("must be no more than 253 characters", NameValidation.IsDns1123Subdomain(new string('a', 254)));
    }

    [Fact]
    public void IsDns1035Label_StartsWithDigit_Message()
    {
        Assert.Empty(NameValidation.IsDns1035Label("my-svc"));
        Assert.Equal(
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
            Assert.Single(NameValidation.IsDns1035Label("1svc")));
    }

    [Theory]
    [InlineData("app")]
    [InlineData("app.kubernetes.io/name")]
    [InlineData("My_Key.1")]
    public void IsQualifiedName_Valid_NoErrors(string value) => Assert.Empty(NameValidation.IsQualifiedName(value));

    [Fact]
    public void IsQualifiedName_EmptyPrefix_PrefixMessage()
    {
        var errors = NameValidation.IsQualifiedName("/name");

        Assert.Equal("prefix part must be non-empty", Assert.Single(errors));
    }

    [Fact]
    public void IsQualifiedName_BadNamePart_NamePartMessage()
    {
        var errors = NameValidation.IsQualifiedName("example.com/-bad");

        Assert.Equal(
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
            Assert.Single(errors));
    }

    [Fact]
    public void IsQualifiedName_TwoSlashes_QualifiedNameMessage()
    {
        var error = Assert.Single(NameValidation.IsQualifiedName("a/b/c"));

        Assert.StartsWith("a qualified name must consist of", error, StringComparison.Ordinal);
        Assert.EndsWith("with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')", error, StringComparison.Ordinal);
    }

    [Fact]
    public void IsQualifiedName_EmptyName_TwoMessages()
    {
        var errors = NameValidation.IsQualifiedName("");

        Assert.Equal("name part must be non-empty", errors[0]);
        Assert.Equal(2, errors.Count);
    }

    [Fact]
    public void IsValidLabelValue_EmptyAndValid_NoErrors()
    {
        Assert.Empty(NameValidation.IsValidLabelValue(""));
        Assert.Empty(NameValidation.IsValidLabelValue("v1.2_3"));
        Assert.Single(NameValidation.IsValidLabelValue("bad value"));
        Assert.Equal(2, NameValidation.IsValidLabelValue(new string('a', 63) + "-").Count);
    }

    [Fact]
    public void IsValidPathSegmentName_DotsAndSlashes_Rejected()
    {
        Assert.Equal("may not be '..'", Assert.Single(NameValidation.IsValidPathSegmentName("..")));
        Assert.Equal(["may not contain '/'", "may not contain '%'"], NameValidation.IsValidPathSegmentName("a/%"));
        Assert.Empty(NameValidation.IsValidPathSegmentName("system:admin"));
    }

    [Fact]
    public void Dns1123SubdomainName_PrefixWithTrailingDash_Accepted()
    {
        Assert.Empty(NameValidation.Dns1123SubdomainName("web-", prefix: true));
        Assert.NotEmpty(NameValidation.Dns1123SubdomainName("web-", prefix: false));
    }

    [Fact]
    public void GenerateName_LongPrefix_TruncatedPlusFiveChars()
    {
        var name = NameValidation.GenerateName(new string('a', 70), new Random(1));

        Assert.Equal(63, name.Length);
        Assert.StartsWith(new string('a', 58), name, StringComparison.Ordinal);
        Assert.All(name[58..], c => Assert.Contains(c, "bcdfghjklmnpqrstvwxz2456789"));
        Assert.Empty(NameValidation.IsDns1123Label(name));
    }

    [Fact]
    public void GenerateName_ShortPrefix_KeepsPrefix()
    {
        var name = NameValidation.GenerateName("web-");

        Assert.Equal(9, name.Length);
        Assert.StartsWith("web-", name, StringComparison.Ordinal);
    }
}
