using Microsoft.Extensions.Logging;
using PresenceD.Operations.Tests.Support;
using PresenceD.Tests.Shared;
using PresenceD.Server.Buffers;
using PresenceD.Server.Hosting;

namespace PresenceD.Operations.Tests.Connections;

/// <summary>SIGHUP's reload reaches the running daemon's buffer pools.</summary>
public sealed class BufferPoolReloadTests
{
    private const int MiB = 1024 * 1024;

    [Fact]
    public async Task A_reload_lowers_buffer_pool_max_at_once_and_can_stop_the_trims()
    {
        // Port 0 (any) is kept across a reload, and the reloaded settings must pass admin_port != port.
        await using TestServer daemon = TestServer.StartWithDiagnostics(o => o.AdminPort = 9);
        BufferPools pools = daemon.Server.Buffers;
        int timersBefore = daemon.Server.Wheel.Count;
        byte[][] arrays = [pools.Send.Rent(4 * MiB), pools.Send.Rent(MiB / 2)];
        foreach (byte[] array in arrays) pools.Send.Return(array);
        string config = Path.Combine(Path.GetTempPath(), $"presenced-reload-{Guid.NewGuid():N}.conf");
        await File.WriteAllTextAsync(config, "bind 127.0.0.1\nadmin_port 9\ntimer_tick 20ms\nbuffer_pool_max 1mb\nbuffer_pool_trim_interval 0\n");
        try
        {
            Program.Reload(daemon.Server, [config], new LogLevelSwitch(LogLevel.Information), daemon.Log.CreateLogger("reload"));
        }
        finally
        {
            File.Delete(config);
        }

        string reloaded = await daemon.Log.WaitForAsync(TimeSpan.FromSeconds(5), "reloaded:");
        Assert.Contains("buffer_pool_max, buffer_pool_trim_interval", reloaded, StringComparison.Ordinal);
        Assert.Equal(MiB, pools.Budget.MaxBytes);
        Assert.Equal(MiB / 2, pools.Budget.RetainedBytes);
        Assert.Equal(timersBefore - 1, daemon.Server.Wheel.Count);
    }
}
