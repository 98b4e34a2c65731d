using Kubesharp.ApiServer.Http;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>If-None-Match against a document's entity tag, in every form a client may send it.</summary>
public sealed class EntityTagsTests
{
    private const string Tag = "\"5d41402abc4b\"";

    [Theory]
    [InlineData(Tag)]
    [InlineData("W/" + Tag)]
    [InlineData("\"other\", " + Tag)]
    [InlineData("\"other\",W/" + Tag + " ")]
    [InlineData("*")]
    public void AnswerNotModified_IfNoneMatchNamesTheTag_Answers304(string ifNoneMatch)
    {
        var context = Conditional(ifNoneMatch);
        Assert.True(EntityTags.AnswerNotModified(context, Tag));
        Assert.Equal(StatusCodes.Status304NotModified, context.Response.StatusCode);
        Assert.Equal(Tag, context.Response.Headers.ETag.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("\"other\"")]
    [InlineData("5d41402abc4b")]
    [InlineData("\"5d41402abc4b")]
    public void AnswerNotModified_IfNoneMatchDoesNotNameTheTag_LeavesTheAnswerToTheCaller(string? ifNoneMatch)
    {
        var context = Conditional(ifNoneMatch);
        Assert.False(EntityTags.AnswerNotModified(context, Tag));
        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);
        Assert.Equal(Tag, context.Response.Headers.ETag.ToString());
    }

    private static DefaultHttpContext Conditional(string? ifNoneMatch)
    {
        var context = new DefaultHttpContext();
        if (ifNoneMatch is not null)
        {
            context.Request.Headers.IfNoneMatch = ifNoneMatch;
        }

        return context;
    }
}
