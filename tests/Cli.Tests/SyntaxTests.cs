using Microsoft.Extensions.Time.Testing;
using NekkoMetal.Cli.Syntax;

namespace NekkoMetal.Cli.Tests;

public sealed class LabelSyntaxTests
{
    [Theory]
    [InlineData("zone=a", "zone", "a")]
    [InlineData("empty=", "empty", "")]
    [InlineData("expr=a=b", "expr", "a=b")]
    [InlineData("topology.kubernetes.io/zone=rack-1", "topology.kubernetes.io/zone", "rack-1")]
    [InlineData("note=two words", "note", "two words")]
    [InlineData("名前=値", "名前", "値")]
    public void TryParse_Valid(string text, string key, string value)
    {
        Assert.True(LabelSyntax.TryParse(text, out var label, out var error), error);
        Assert.Equal(new Label(key, value), label);
    }

    [Theory]
    [InlineData("zone", "expected KEY=VALUE")]
    [InlineData("=a", "the key is empty")]
    [InlineData("my key=a", "the key contains white space")]
    [InlineData("zone-", "expected KEY=VALUE")]
    [InlineData("k=a\u001b[2J", "control character")]
    public void TryParse_Invalid(string text, string reason)
    {
        Assert.False(LabelSyntax.TryParse(text, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.Contains($"\"{text}\"", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("k=v", "k", "v")]
    [InlineData("k3-", "k3", null)]
    [InlineData("k=v-", "k", "v-")]
    [InlineData("a-b-", "a-b", null)]
    public void TryParseChange_Valid(string text, string key, string? value)
    {
        Assert.True(LabelSyntax.TryParseChange(text, out var change, out var error), error);
        Assert.Equal(new LabelChange(key, value), change);
    }

    [Theory]
    [InlineData("k", "expected KEY=VALUE, or KEY- to remove it")]
    [InlineData("-", "the key is empty")]
    [InlineData("=v", "the key is empty")]
    [InlineData("a b-", "white space")]
    public void TryParseChange_Invalid(string text, string reason)
    {
        Assert.False(LabelSyntax.TryParseChange(text, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }
}

public sealed class SubnetSpecTests
{
    [Fact]
    public void TryParse_AllParts()
    {
        Assert.True(SubnetSpec.TryParse("lab=10.0.0.0/24,range=10.0.0.100-10.0.0.199,gateway=10.0.0.1,dns=10.0.0.1;1.1.1.1", out var subnet, out var error), error);

        Assert.Equal("lab", subnet!.Name);
        Assert.Equal("10.0.0.0/24", subnet.Cidr);
        Assert.Equal("10.0.0.100", subnet.RangeStart);
        Assert.Equal("10.0.0.199", subnet.RangeEnd);
        Assert.Equal("10.0.0.1", subnet.Gateway);
        Assert.Equal(["10.0.0.1", "1.1.1.1"], subnet.Dns);
        Assert.Equal(
            """{"name":"lab","cidr":"10.0.0.0/24","rangeStart":"10.0.0.100","rangeEnd":"10.0.0.199","gateway":"10.0.0.1","dns":["10.0.0.1","1.1.1.1"]}""",
            subnet.ToJson().ToJsonString());
    }

    [Theory]
    [InlineData("lab=10.0.0.0/24", """{"name":"lab","cidr":"10.0.0.0/24"}""")]
    [InlineData("v6=fd00::/64,gateway=fd00::1", """{"name":"v6","cidr":"fd00::/64","gateway":"fd00::1"}""")]
    [InlineData("a=10.1.0.0/16,dns=10.1.0.53", """{"name":"a","cidr":"10.1.0.0/16","dns":["10.1.0.53"]}""")]
    public void TryParse_OmitsAbsentParts(string text, string json)
    {
        Assert.True(SubnetSpec.TryParse(text, out var subnet, out var error), error);
        Assert.Equal(json, subnet!.ToJson().ToJsonString());
    }

    [Theory]
    [InlineData("lab", "expected NAME=CIDR first")]
    [InlineData("=10.0.0.0/24", "expected NAME=CIDR first")]
    [InlineData("lab=10.0.0.0", "is not an address/prefix-length")]
    [InlineData("lab=10.0.0.0/33", "is not an address/prefix-length")]
    [InlineData("lab=10.0.0.0/24,range=10.0.0.1", "is not START-END")]
    [InlineData("lab=10.0.0.0/24,range=10.0.0.1-x", "is not START-END")]
    [InlineData("lab=10.0.0.0/24,gateway=router", "is not an IP address")]
    [InlineData("lab=10.0.0.0/24,dns=1.1.1.1;;8.8.8.8", "dns server \"\" is not an IP address")]
    [InlineData("lab=10.0.0.0/24,mtu=9000", "unknown key \"mtu\"")]
    [InlineData("lab=10.0.0.0/24,gateway=10.0.0.1,gateway=10.0.0.2", "\"gateway\" given twice")]
    [InlineData("lab=10.0.0.0/24,gateway", "expected KEY=VALUE")]
    public void TryParse_Invalid(string text, string reason)
    {
        Assert.False(SubnetSpec.TryParse(text, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.Contains(SubnetSpec.Syntax, error, StringComparison.Ordinal);
    }
}

public sealed class TimeBoundTests
{
    private static readonly FakeTimeProvider Time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));

    [Theory]
    [InlineData("30s", "2026-03-01T11:59:30Z")]
    [InlineData("30m", "2026-03-01T11:30:00Z")]
    [InlineData("1h", "2026-03-01T11:00:00Z")]
    [InlineData("2d", "2026-02-27T12:00:00Z")]
    [InlineData("1w", "2026-02-22T12:00:00Z")]
    [InlineData("1h30m", "2026-03-01T10:30:00Z")]
    [InlineData("0m", "2026-03-01T12:00:00Z")]
    public void Relative_IsNowMinusDuration_InUtc(string text, string expected)
    {
        Assert.True(TimeBound.TryParse(text, out var bound, out var error), error);
        Assert.Equal(expected, bound.ToQueryValue(Time));
    }

    [Fact]
    public void Relative_FollowsTheClock()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        Assert.True(TimeBound.TryParse("1h", out var bound, out _));

        time.Advance(TimeSpan.FromMinutes(90));

        Assert.Equal("2026-03-01T12:30:00Z", bound.ToQueryValue(time));
    }

    [Theory]
    [InlineData("2026-01-02T15:04:05Z")]
    [InlineData("2026-01-02T15:04:05.123+09:00")]
    [InlineData("2026-01-02")]
    public void Absolute_IsPassedThroughAsGiven(string text)
    {
        Assert.True(TimeBound.TryParse(text, out var bound, out var error), error);
        Assert.Equal(text, bound.ToQueryValue(Time));
    }

    [Theory]
    [InlineData("")]
    [InlineData("1")]
    [InlineData("h")]
    [InlineData("1y")]
    [InlineData("-1h")]
    [InlineData("1H")]
    [InlineData("yesterday")]
    [InlineData("01/02/2026")]
    [InlineData("2026-13-45T00:00:00Z")]
    [InlineData("99999999999999999999d")]
    [InlineData("999999w")]
    public void Invalid(string text)
    {
        Assert.False(TimeBound.TryParse(text, out _, out var error));
        Assert.Contains("expected an ISO 8601 time", error, StringComparison.Ordinal);
    }
}
