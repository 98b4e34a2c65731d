using System.Text;
using Kubesharp.ApiMachinery.Serialization;

namespace Kubesharp.ApiMachinery.Tests.Serialization;

public sealed class StringPoolTests
{
    [Fact]
    public void Get_SameTextTwice_ReturnsOneInstance_OtherTextItsOwn()
    {
        var pool = new StringPool(8);

        var first = pool.Get("pod-template-hash".AsSpan());
        Assert.Same(first, pool.Get(new string("pod-template-hash".AsSpan())));
        Assert.Same(first, pool.GetUtf8("pod-template-hash"u8));
        Assert.Equal("tier", pool.Get("tier".AsSpan()));
        Assert.Same(string.Empty, pool.Get(ReadOnlySpan<char>.Empty));
    }

    [Fact]
    public void Get_AfterAnotherTextTookTheSlot_ReturnsEqualText()
    {
        // One slot: every text takes it, and a miss still gives the right text.
        var pool = new StringPool(0);

        Assert.Equal("a", pool.Get("a"));
        Assert.Equal("b", pool.Get("b"));
        Assert.Equal("a", pool.Get("a".AsSpan()));
        Assert.Same(pool.Get("a"), pool.Get(new string('a', 1)));
    }

    [Fact]
    public void GetUtf8_LongOrInvalidText_LeftToTheCaller()
    {
        var pool = new StringPool(8);
        var text = new string('x', StringPool.MaxPooledLength);

        Assert.Equal(text, pool.GetUtf8(Encoding.UTF8.GetBytes(text)));
        Assert.Null(pool.GetUtf8(Encoding.UTF8.GetBytes(text + "x")));
        Assert.Null(pool.GetUtf8([0xC3, 0x28]));
        Assert.Equal("значение ✓", pool.GetUtf8(Encoding.UTF8.GetBytes("значение ✓")));
    }
}
