using System.Diagnostics;
using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace NekkoMetal.EndToEnd.Tests.Kube;

/// <summary>
/// A client that keeps writing sequential keys (<c>{prefix}{seq:D8}</c>) through the cluster's client endpoints
/// over mutual TLS (a client certificate from our etcd CA), moving to the next endpoint when one fails, as etcd
/// clients do. A write counts as acknowledged only when etcd answered it; the longest stretch between a failed
/// attempt and the next success is the error window.
/// </summary>
internal sealed class TlsEtcdWriter : IAsyncDisposable
{
    private readonly List<(string Endpoint, GrpcChannel Channel, KV.KVClient Kv)> _clients;
    private readonly string _prefix;
    private readonly CancellationTokenSource _stop = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<long> _acknowledged = [];
    private Task _loop = Task.CompletedTask;
    private int _current;

    public TlsEtcdWriter(IEnumerable<string> endpoints, string prefix, X509Certificate2 clientCertificate, X509Certificate2 ca)
    {
        _prefix = prefix;
        _clients = [.. endpoints.Select(e =>
        {
            var handler = new SocketsHttpHandler
            {
                ConnectTimeout = TimeSpan.FromSeconds(1),
                SslOptions = new SslClientAuthenticationOptions
                {
                    ClientCertificates = [clientCertificate],
                    RemoteCertificateValidationCallback = (_, cert, _, _) => cert is X509Certificate2 c && ChainsTo(c, ca),
                },
            };
            var channel = GrpcChannel.ForAddress(e, new GrpcChannelOptions { HttpHandler = handler });
            return (e, channel, new KV.KVClient(channel));
        })];
    }

    public int Failures { get; private set; }

    public TimeSpan LongestErrorWindow { get; private set; }

    public IReadOnlyList<long> Acknowledged
    {
        get
        {
            lock (_acknowledged)
            {
                return [.. _acknowledged];
            }
        }
    }

    public string Key(long sequence) => _prefix + sequence.ToString("D8", CultureInfo.InvariantCulture);

    public void Start() => _loop = Task.Run(LoopAsync);

    private async Task LoopAsync()
    {
        long sequence = 0;
        TimeSpan? failingSince = null;
        while (!_stop.IsCancellationRequested)
        {
            var (_, _, kv) = _clients[_current % _clients.Count];
            try
            {
                await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(Key(sequence)), Value = ByteString.CopyFromUtf8("v" + sequence) },
                    deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: _stop.Token);
                lock (_acknowledged)
                {
                    _acknowledged.Add(sequence);
                }

                if (failingSince is { } since)
                {
                    var window = _clock.Elapsed - since;
                    if (window > LongestErrorWindow)
                    {
                        LongestErrorWindow = window;
                    }

                    failingSince = null;
                }

                sequence++;
                await Task.Delay(20, _stop.Token);
            }
            catch (RpcException) when (!_stop.IsCancellationRequested)
            {
                // unknown outcome: not acknowledged; the same key is tried again on the next endpoint
                Failures++;
                failingSince ??= _clock.Elapsed;
                _current++;
            }
            catch (Exception e) when (e is OperationCanceledException || (e is RpcException && _stop.IsCancellationRequested))
            {
                return;
            }
        }
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
    }

    /// <summary>Reads every key under the prefix through the first endpoint that answers.</summary>
    public async Task<HashSet<string>> ReadAllAsync()
    {
        Exception? last = null;
        foreach (var (_, _, kv) in _clients)
        {
            try
            {
                var r = await kv.RangeAsync(new RangeRequest
                {
                    Key = ByteString.CopyFromUtf8(_prefix),
                    RangeEnd = ByteString.CopyFromUtf8(_prefix[..^1] + (char)(_prefix[^1] + 1)),
                    KeysOnly = true,
                }, deadline: DateTime.UtcNow.AddSeconds(10));
                return [.. r.Kvs.Select(k => k.Key.ToStringUtf8())];
            }
            catch (RpcException e)
            {
                last = e;
            }
        }

        throw new InvalidOperationException("no endpoint answered the read-back", last);
    }

    private static bool ChainsTo(X509Certificate2 certificate, X509Certificate2 ca)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopAsync();
        }

        foreach (var (_, channel, _) in _clients)
        {
            channel.Dispose();
        }

        _stop.Dispose();
    }
}
