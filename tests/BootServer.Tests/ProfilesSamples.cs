using NekkoMetal.Inventory.Machines;
using NekkoMetal.Inventory.Profiles;

namespace NekkoMetal.BootServer.Tests;

/// <summary>The profile templates the profile tests render: one per configuration kind, as an admin would write them.</summary>
internal static class ProfilesSamples
{
    public const string SshKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl admin@lab";

    public const string UserData = """
        #cloud-config
        hostname: {{ hostname }}
        fqdn: {{ hostname }}.{{ labels.domain | default: "lab.internal" }}
        manage_etc_hosts: true
        users:
          - name: nekko
            groups: [sudo]
            shell: /bin/bash
            sudo: "ALL=(ALL) NOPASSWD:ALL"
            lock_passwd: true
            ssh_authorized_keys:
        {%- for key in ssh_authorized_keys %}
              - {{ key | json }}
        {%- endfor %}
        write_files:
          - path: /etc/nekko/agent.json
            permissions: "0600"
            content: |
              {"server": {{ boot_server_url | json }}, "serial": {{ serial | json }}, "role": {{ role | json }}, "bootstrapToken": {{ bootstrap_token | json }}}
          - path: /etc/nekko/ca.pem
            permissions: "0644"
            content: {{ ca_bundle | json }}
        runcmd:
          - [systemctl, enable, --now, nekko-agent.service]

        """;

    public const string Ignition = """
        {
          "ignition": {
            "version": "3.4.0"{% if ca_bundle != "" %},
            "security": {"tls": {"certificateAuthorities": [{"source": "data:;base64,{{ ca_bundle | base64_encode }}"}]}}{% endif %}
          },
          "passwd": {"users": [{"name": "core", "sshAuthorizedKeys": {{ ssh_authorized_keys | json }}}]},
          {%- capture agent %}{"server": {{ boot_server_url | json }}, "serial": {{ serial | json }}, "role": {{ role | json }}, "bootstrapToken": {{ bootstrap_token | json }}}{% endcapture %}
          "storage": {"files": [
            {"path": "/etc/hostname", "mode": 420, "overwrite": true, "contents": {"source": "data:,{{ hostname }}"}},
            {"path": "/etc/nekko/agent.json", "mode": 384, "contents": {"source": "data:;base64,{{ agent | base64_encode }}"}}
          ]},
          "systemd": {"units": [{"name": "nekko-agent.service", "enabled": true}]}
        }

        """;

    public static BootProfileSpec CloudInit(string? userData = null) => new()
    {
        Kernel = "debian-vmlinuz",
        Initrds = ["debian-initrd.img"],
        Cmdline = "console=ttyS0,115200 hostname={{ hostname }} auto=true",
        Config = new ConfigTemplate { Kind = ConfigTemplate.CloudInit, UserData = userData ?? UserData },
        SshAuthorizedKeys = [SshKey],
    };

    public static BootProfileSpec IgnitionProfile() => new()
    {
        Kernel = "fcos-kernel",
        Initrds = ["fcos-initramfs.img", "fcos-rootfs.img"],
        Cmdline = "console=ttyS0 ignition.firstboot ignition.platform.id=metal coreos.inst.install_dev=/dev/vda",
        Config = new ConfigTemplate { Kind = ConfigTemplate.IgnitionKind, Ignition = Ignition },
        SshAuthorizedKeys = [SshKey],
    };

    /// <summary>The machine the golden files are rendered for.</summary>
    public static ProfileRenderInput Input() => new()
    {
        Machine = new Machine
        {
            Serial = "SN-0001",
            Role = "worker",
            Macs = ["52:54:00:12:34:56"],
            Ipv4 = ["10.69.0.7"],
            Subnet = "default",
            Labels = new Dictionary<string, string> { ["rack"] = "3" },
        },
        BootServerUrl = "http://10.69.0.254:8080",
        BootstrapToken = "nekkoboot_AbCdEf0123456789-_",
    };
}
