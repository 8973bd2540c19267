using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NekkoMetal.Tftp.Files;
using NekkoMetal.Tftp.Transport;

namespace NekkoMetal.Tftp;

public static class TftpServiceCollectionExtensions
{
    /// <summary>
    /// Registers the read-only TFTP server (<see cref="TftpServer"/>, a hosted service) serving
    /// <see cref="TftpServerOptions.Root"/> through a <see cref="DirectoryFileSource"/> unless an
    /// <see cref="ITftpFileSource"/> is registered. Options are validated at start. Returns the options
    /// builder so the host binds or fills them, e.g.
    /// <c>services.AddTftpServer().BindConfiguration("tftp")</c> or
    /// <c>.Configure&lt;IOptions&lt;BootServerOptions&gt;&gt;((t, b) =&gt; t.Root = b.Value.IpxeDir)</c>.
    /// </summary>
    public static OptionsBuilder<TftpServerOptions> AddTftpServer(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TftpServerOptions>, TftpServerOptionsValidator>());
        services.TryAddSingleton<ITftpFileSource>(sp => new DirectoryFileSource(sp.GetRequiredService<IOptions<TftpServerOptions>>().Value.Root));
        services.TryAddSingleton<TftpServer>();
        services.AddHostedService(sp => sp.GetRequiredService<TftpServer>());
        return services.AddOptions<TftpServerOptions>().ValidateOnStart();
    }
}
