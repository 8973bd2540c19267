using System.Runtime.InteropServices;

namespace NekkoMetal.TestKit;

/// <summary>
/// Runs in-process code inside a network namespace: on a new thread that called setns(2), so the test process
/// itself never changes namespace. Sockets keep the namespace they were created in, whichever thread uses them
/// later.
/// </summary>
public static class NetworkNamespaces
{
    private const int CloneNewNet = 0x40000000;

    public static T Run<T>(string name, Func<T> action)
    {
        T result = default!;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle("/run/netns/" + name);
                if (setns((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                {
                    throw new InvalidOperationException($"setns({name}) failed: errno {Marshal.GetLastPInvokeError()}");
                }

                result = action();
            }
            catch (Exception ex)
            {
                error = ex;
            }
        });
        thread.Start();
        thread.Join();
        if (error is not null)
        {
            throw new InvalidOperationException($"failed inside network namespace {name}", error);
        }

        return result;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int setns(int fd, int nstype);
}
