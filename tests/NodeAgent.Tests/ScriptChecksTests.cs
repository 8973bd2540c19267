using NekkoMetal.NodeAgent.Checks;
using NekkoMetal.NodeAgent.Platform;

namespace NekkoMetal.NodeAgent.Tests;

public class ScriptChecksTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static CommandResult Exited(int code, string stdout = "", string stderr = "") => new(code, stdout, stderr, false, null);

    [Fact]
    public void Ok_on_exit_0_with_the_first_line_before_performance_data() =>
        Assert.Equal(new CheckResult("script:raid", CheckStatus.Ok, "RAID OK: md0 [UU]"), ScriptChecks.Evaluate("raid", Exited(0, "RAID OK: md0 [UU] | disks=2;;;\nmore detail\n"), Timeout));

    [Fact]
    public void Warning_on_exit_1() =>
        Assert.Equal(new CheckResult("script:ntp", CheckStatus.Warning, "clock offset 0.8 s"), ScriptChecks.Evaluate("ntp", Exited(1, "clock offset 0.8 s\n"), Timeout));

    [Fact]
    public void Critical_on_exit_2_with_stderr_when_stdout_is_empty() =>
        Assert.Equal(new CheckResult("script:raid", CheckStatus.Critical, "md0 degraded [U_]"), ScriptChecks.Evaluate("raid", Exited(2, "", "md0 degraded [U_]\n"), Timeout));

    [Fact]
    public void Unknown_on_exit_3_and_on_codes_outside_nagios()
    {
        Assert.Equal(new CheckResult("script:x", CheckStatus.Unknown, "cannot tell"), ScriptChecks.Evaluate("x", Exited(3, "cannot tell"), Timeout));
        Assert.Equal(new CheckResult("script:x", CheckStatus.Unknown, "exit code 127 (expected 0–3): sh: 1: foo: not found"), ScriptChecks.Evaluate("x", Exited(127, "", "sh: 1: foo: not found"), Timeout));
        Assert.Equal(new CheckResult("script:x", CheckStatus.Unknown, "exit code 3"), ScriptChecks.Evaluate("x", Exited(3), Timeout));
    }

    [Fact]
    public void Unknown_on_timeout_and_on_start_failure()
    {
        Assert.Equal(new CheckResult("script:slow", CheckStatus.Unknown, "timed out after 10 s and was killed"), ScriptChecks.Evaluate("slow", new CommandResult(null, "", "", true, null), Timeout));
        Assert.Equal(new CheckResult("script:bad", CheckStatus.Unknown, "could not run: Exec format error"), ScriptChecks.Evaluate("bad", new CommandResult(null, "", "", false, "Exec format error"), Timeout));
    }

    [Theory]
    [InlineData("check-raid", true)]
    [InlineData("10_ntp", true)]
    [InlineData("raid.sh", false)]
    [InlineData("raid~", false)]
    [InlineData(".hidden", false)]
    [InlineData("raid.dpkg-old", false)]
    public void Script_names_follow_run_parts(string name, bool runs) => Assert.Equal(runs, ScriptChecks.IsCheckName(name));

    [Fact]
    public async Task Runs_every_executable_script_in_the_directory_with_a_timeout()
    {
        var dir = Directory.CreateTempSubdirectory("nekko-agent-checks-");
        try
        {
            void Script(string name, string body, bool executable = true)
            {
                var path = Path.Join(dir.FullName, name);
                File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
                if (executable && !OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }
            }

            Script("a-ok", "echo 'all good|t=1'; exit 0");
            Script("b-warn", "echo 'getting full'; exit 1");
            Script("c-crit", "echo 'broken' >&2; exit 2");
            Script("d-hang", "exec sleep 30");
            Script("e-not-executable", "exit 2", executable: false);
            Script("f.disabled", "exit 2");

            var results = await new ScriptChecks(dir.FullName, TimeSpan.FromSeconds(1), new CommandRunner()).RunAsync(CancellationToken.None);

            Assert.Equal(
                [
                    new CheckResult("script:a-ok", CheckStatus.Ok, "all good"),
                    new CheckResult("script:b-warn", CheckStatus.Warning, "getting full"),
                    new CheckResult("script:c-crit", CheckStatus.Critical, "broken"),
                    new CheckResult("script:d-hang", CheckStatus.Unknown, "timed out after 1 s and was killed"),
                ],
                results);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_missing_directory_means_no_scripts() =>
        Assert.Empty(await new ScriptChecks("/nonexistent/nekko/checks.d", Timeout, new CommandRunner()).RunAsync(CancellationToken.None));
}
