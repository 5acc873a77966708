using System.Diagnostics.Metrics;
using PresenceD.Protocol;
using PresenceD.Server.Connections;

namespace PresenceD.Server.Diagnostics;

/// <summary>
/// The daemon's counters. Hot paths bump plain fields with Interlocked (no allocation, no tags on the
/// hot path); System.Diagnostics.Metrics observable instruments read them, named as Prometheus expects
/// once exported (presenced_..._total).
/// </summary>
internal sealed class ServerMetrics : IDisposable
{
    public const string MeterName = "PresenceD";

    private static readonly CloseReason[] CloseReasonValues = Enum.GetValues<CloseReason>();
    private static readonly ErrorCode[] ErrorCodeValues = Enum.GetValues<ErrorCode>();

    private readonly Meter _meter = new(MeterName);
    private readonly long[] _closes = new long[CloseReasonValues.Length];
    private readonly long[] _errors = new long[ErrorCodeValues.Max(c => (int)c) + 1];
    private long _accepted;
    private long _framesIn;
    private long _bytesIn;
    private long _bytesOut;
    private long _publishes;
    private long _deliveries;
    private long _dropped;

    public ServerMetrics(Func<long> connections, Func<long> rooms, Func<long> members)
    {
        _meter.CreateObservableGauge("presenced_connections", connections, description: "Open client connections");
        _meter.CreateObservableGauge("presenced_rooms", rooms, description: "Rooms with local members");
        _meter.CreateObservableGauge("presenced_members", members, description: "Local room memberships");
        _meter.CreateObservableCounter("presenced_connections_accepted_total", () => Read(ref _accepted), description: "Connections accepted");
        _meter.CreateObservableCounter("presenced_frames_received_total", () => Read(ref _framesIn), description: "Client frames decoded");
        _meter.CreateObservableCounter("presenced_received_bytes_total", () => Read(ref _bytesIn), "By", "Bytes read from client sockets");
        _meter.CreateObservableCounter("presenced_sent_bytes_total", () => Read(ref _bytesOut), "By", "Bytes written to client sockets");
        _meter.CreateObservableCounter("presenced_publishes_total", () => Read(ref _publishes), description: "PUBLISH requests that took effect");
        _meter.CreateObservableCounter("presenced_deliveries_total", () => Read(ref _deliveries), description: "Frames queued to local members by fan-out");
        _meter.CreateObservableCounter("presenced_dropped_total", () => Read(ref _dropped), description: "Messages dropped (not joined with rid 0, rate limited, backplane down)");
        _meter.CreateObservableCounter("presenced_connection_closes_total", ObserveCloses, description: "Connection closes by reason");
        _meter.CreateObservableCounter("presenced_errors_total", ObserveErrors, description: "ERROR replies by code");
    }

    public Meter Meter => _meter;

    public long Deliveries => Read(ref _deliveries);

    public long Publishes => Read(ref _publishes);

    public void Accepted() => Interlocked.Increment(ref _accepted);

    public void FrameReceived() => Interlocked.Increment(ref _framesIn);

    public void BytesReceived(int count) => Interlocked.Add(ref _bytesIn, count);

    public void BytesSent(int count) => Interlocked.Add(ref _bytesOut, count);

    public void Published(int deliveries)
    {
        Interlocked.Increment(ref _publishes);
        Interlocked.Add(ref _deliveries, deliveries);
    }

    public void Delivered(int deliveries) => Interlocked.Add(ref _deliveries, deliveries);

    public void Dropped() => Interlocked.Increment(ref _dropped);

    public void ErrorSent(ErrorCode code) => Interlocked.Increment(ref _errors[(int)code]);

    public void ConnectionClosed(CloseReason reason) => Interlocked.Increment(ref _closes[(int)reason]);

    public long Closes(CloseReason reason) => Read(ref _closes[(int)reason]);

    public long Errors(ErrorCode code) => Read(ref _errors[(int)code]);

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<long>> ObserveCloses()
    {
        foreach (CloseReason reason in CloseReasonValues)
        {
            yield return new Measurement<long>(Read(ref _closes[(int)reason]), new KeyValuePair<string, object?>("reason", ToSnakeCase(reason.ToString())));
        }
    }

    private IEnumerable<Measurement<long>> ObserveErrors()
    {
        foreach (ErrorCode code in ErrorCodeValues)
        {
            if (code == ErrorCode.None) continue;
            string kind = code is ErrorCode.Internal or ErrorCode.Degraded ? "server" : "client";
            yield return new Measurement<long>(Read(ref _errors[(int)code]),
                new KeyValuePair<string, object?>("code", ToSnakeCase(code.ToString())), new KeyValuePair<string, object?>("kind", kind));
        }
    }

    private static long Read(ref long field) => Volatile.Read(ref field);

    internal static string ToSnakeCase(string name)
    {
        var builder = new System.Text.StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c) && i > 0) builder.Append('_');
            builder.Append(char.ToLowerInvariant(c));
        }
        return builder.ToString();
    }
}
