using System.Net;
using NekkoMetal.TestKit;

namespace NekkoMetal.BootServer.Tests;

/// <summary>The token-minting boot paths are limited per client address (real etcd: each allowed request mints a token).</summary>
[Collection(EtcdCollection.Name)]
public sealed class BootRateLimitingTests(EtcdFixture etcd)
{
    [Fact]
    public async Task BootScript_OverThePerClientLimit_Is429WithRetryAfter_AndMintsNothing()
    {
        await using var app = new BootServerApp(etcd.Endpoint, EtcdFixture.NewPrefix(), new Dictionary<string, string?> { ["bootRequestsPerMinute"] = "3" });
        using var firmware = app.Client(null);

        for (var i = 0; i < 3; i++)
        {
            var script = await firmware.GetStringAsync($"/boot/ipxe?serial=&mac=52-54-00-31-00-0{i}");
            Assert.Contains("nekko.token=", script, StringComparison.Ordinal); // unknown machine: discovery with a fresh token
        }

        using var refused = await firmware.GetAsync("/boot/ipxe?serial=&mac=52-54-00-31-00-09");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After in seconds");
        Assert.DoesNotContain("nekko.token=", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var config = await firmware.GetAsync("/boot/config/ANY/user-data");
        Assert.Equal(HttpStatusCode.TooManyRequests, config.StatusCode); // the same allowance covers /boot/config

        using var binary = await firmware.GetAsync("/boot/boot.ipxe");
        Assert.Equal(HttpStatusCode.OK, binary.StatusCode); // paths that mint nothing are not limited
    }
}
