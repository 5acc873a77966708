using System.Diagnostics.Metrics;
using System.Text;

namespace PresenceD.Server.Diagnostics;

/// <summary>
/// Renders one <see cref="Meter"/>'s instruments in the Prometheus text exposition format 0.0.4 through a
/// <see cref="MeterListener"/>. Observable instruments are read at scrape time; synchronous ones
/// (counters, gauges, histograms) are aggregated as they are recorded. Counters get a <c>_total</c>
/// suffix when their name lacks one; histograms export cumulative buckets, <c>_sum</c> and <c>_count</c>.
/// </summary>
internal sealed class PrometheusExporter : IDisposable
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly Meter _meter;
    private readonly MeterListener _listener = new();
    private readonly Lock _scrapeLock = new();
    private readonly Lock _familiesLock = new();
    private readonly List<MetricFamily> _families = [];

    public PrometheusExporter(Meter meter)
    {
        _meter = meter;
        _listener.InstrumentPublished = OnInstrumentPublished;
        _listener.MeasurementsCompleted = OnMeasurementsCompleted;
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<float>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.Start();
    }

    /// <summary>The current value of every instrument, as a scrape of <c>/metrics</c> returns it.</summary>
    public string Scrape()
    {
        lock (_scrapeLock)
        {
            MetricFamily[] families;
            lock (_familiesLock) families = [.. _families];
            foreach (MetricFamily family in families)
            {
                if (family.Observable) family.BeginObservation();
            }
            _listener.RecordObservableInstruments();
            var text = new StringBuilder(8192);
            foreach (MetricFamily family in families) family.WriteTo(text);
            return text.ToString();
        }
    }

    public void Dispose() => _listener.Dispose();

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        if (!ReferenceEquals(instrument.Meter, _meter)) return;
        var family = MetricFamily.For(instrument);
        if (family is null) return;
        lock (_familiesLock) _families.Add(family);
        listener.EnableMeasurementEvents(instrument, family);
    }

    private void OnMeasurementsCompleted(Instrument instrument, object? state)
    {
        lock (_familiesLock) _families.Remove((MetricFamily)state!);
    }
}
