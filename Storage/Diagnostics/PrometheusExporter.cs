using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Actors.Storage.Diagnostics;

/// <summary>Listens to <see cref="System.Diagnostics.Metrics"/> instruments of the chosen meters
/// and renders them in the Prometheus text exposition format (0.0.4). Counters become
/// <c>_total</c>, histograms <c>_bucket</c>/<c>_sum</c>/<c>_count</c>, up-down counters and
/// observable gauges gauges; names follow the conventions (dots → underscores, unit "s" →
/// <c>_seconds</c>, "By" → <c>_bytes</c>, a gauge's <c>_count</c> → <c>_number</c>). Small, and shaped so the OpenTelemetry Prometheus
/// exporter could replace it.</summary>
public sealed class PrometheusExporter : IDisposable
{
    private static readonly double[] DefaultBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, Series> _series = new();
    private readonly string[] _meters;
    private volatile bool _enabled = true;

    public PrometheusExporter(params string[] meterPrefixes)
    {
        _meters = meterPrefixes;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (_meters.Any(m => instrument.Meter.Name.StartsWith(m, StringComparison.Ordinal)))
            {
                _series.TryAdd(instrument, new Series(instrument));
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<decimal>((i, v, tags, _) => Record(i, (double)v, tags));
        _listener.Start();
    }

    /// <summary>Off: measurements are dropped (to measure what observing costs).</summary>
    public bool Enabled
    {
        get => _enabled;
        set => _enabled = value;
    }

    /// <summary>The exposition text: observable instruments are read now.</summary>
    public string Render()
    {
        _listener.RecordObservableInstruments();
        var text = new StringBuilder();
        foreach (var series in _series.Values.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            series.Render(text);
        }

        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (_enabled && _series.TryGetValue(instrument, out var series))
        {
            series.Add(Labels(tags), value);
        }
    }

    /// <summary>The label set as Prometheus writes it (keys sanitized and sorted, values escaped),
    /// built in a per-thread buffer: a measurement whose label set was seen before allocates nothing.</summary>
    private static ReadOnlySpan<char> Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0)
        {
            return [];
        }

        var keys = t_keys is { } k && k.Length >= tags.Length ? k : t_keys = new string[Math.Max(16, tags.Length)];
        var order = t_order is { } o && o.Length >= tags.Length ? o : t_order = new int[Math.Max(16, tags.Length)];
        for (var i = 0; i < tags.Length; i++)
        {
            keys[i] = SanitizedKeys.GetOrAdd(tags[i].Key, Sanitize);
            var j = i;
            for (; j > 0 && string.CompareOrdinal(keys[order[j - 1]], keys[i]) > 0; j--)
            {
                order[j] = order[j - 1];
            }

            order[j] = i;
        }

        var text = new LabelText(t_chars ??= new char[256]);
        for (var n = 0; n < tags.Length; n++)
        {
            var i = order[n];
            if (n > 0)
            {
                text.Append(',');
            }

            text.Append(keys[i]);
            text.Append("=\"");
            text.AppendValue(tags[i].Value);
            text.Append('"');
        }

        t_chars = text.Buffer;
        return text.Written;
    }

    [ThreadStatic]
    private static char[]? t_chars;

    [ThreadStatic]
    private static string[]? t_keys;

    [ThreadStatic]
    private static int[]? t_order;

    private static readonly ConcurrentDictionary<string, string> SanitizedKeys = new(StringComparer.Ordinal);

    /// <summary>Appends to a growable char buffer; values escaped as the exposition format asks.</summary>
    private ref struct LabelText(char[] buffer)
    {
        private int _length;

        public char[] Buffer { get; private set; } = buffer;

        public readonly ReadOnlySpan<char> Written => Buffer.AsSpan(0, _length);

        public void Append(char c)
        {
            Reserve(1);
            Buffer[_length++] = c;
        }

        public void Append(ReadOnlySpan<char> chars)
        {
            Reserve(chars.Length);
            chars.CopyTo(Buffer.AsSpan(_length));
            _length += chars.Length;
        }

        public void AppendValue(object? value)
        {
            switch (value)
            {
                case null:
                    return;
                case string s:
                    AppendEscaped(s);
                    return;
                case ISpanFormattable f:
                    Reserve(64);
                    if (f.TryFormat(Buffer.AsSpan(_length), out var written, default, CultureInfo.InvariantCulture))
                    {
                        _length += written;
                        return;
                    }

                    break;
            }

            AppendEscaped(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "");
        }

        private void AppendEscaped(string s)
        {
            if (s.AsSpan().IndexOfAny('\\', '"', '\n') < 0)
            {
                Append(s);
                return;
            }

            foreach (var c in s)
            {
                switch (c)
                {
                    case '\\':
                        Append("\\\\");
                        break;
                    case '"':
                        Append("\\\"");
                        break;
                    case '\n':
                        Append("\\n");
                        break;
                    default:
                        Append(c);
                        break;
                }
            }
        }

        private void Reserve(int more)
        {
            if (_length + more > Buffer.Length)
            {
                var grown = new char[Math.Max(Buffer.Length * 2, _length + more)];
                Buffer.AsSpan(0, _length).CopyTo(grown);
                Buffer = grown;
            }
        }
    }

    internal static string Sanitize(string name)
    {
        var chars = name.Select(c => char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_').ToArray();
        var text = new string(chars);
        return char.IsAsciiDigit(text.FirstOrDefault('_')) ? "_" + text : text;
    }

    private static string Number(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" : double.IsNegativeInfinity(value) ? "-Inf" : double.IsNaN(value) ? "NaN" : value.ToString("R", CultureInfo.InvariantCulture);

    private enum Kind
    {
        Counter,
        Gauge,
        Histogram,
    }

    private sealed class Series
    {
        private readonly Kind _kind;
        private readonly bool _cumulative;
        private readonly string? _help;
        private readonly double[] _buckets;
        private readonly Dictionary<string, double[]> _values = new(StringComparer.Ordinal);
        private readonly Dictionary<string, double[]>.AlternateLookup<ReadOnlySpan<char>> _lookup;
        private readonly Lock _lock = new();

        public Series(Instrument instrument)
        {
            _lookup = _values.GetAlternateLookup<ReadOnlySpan<char>>();
            var type = instrument.GetType().GetGenericTypeDefinition();
            _kind = type == typeof(Counter<>) || type == typeof(ObservableCounter<>) ? Kind.Counter
                : type == typeof(Histogram<>) ? Kind.Histogram : Kind.Gauge;
            _cumulative = type == typeof(ObservableCounter<>) || type == typeof(ObservableGauge<>) || type == typeof(ObservableUpDownCounter<>);
            _help = instrument.Description;
            var name = Sanitize(instrument.Name);
            name += instrument.Unit switch
            {
                "s" when !name.EndsWith("_seconds", StringComparison.Ordinal) => "_seconds",
                "By" when !name.EndsWith("_bytes", StringComparison.Ordinal) => "_bytes",
                _ => "",
            };
            if (_kind == Kind.Gauge && name.EndsWith("_count", StringComparison.Ordinal))
            {
                name = name[..^"_count".Length] + "_number"; // "_count" belongs to histograms and summaries
            }

            Base = name;
            Name = _kind == Kind.Counter && !name.EndsWith("_total", StringComparison.Ordinal) ? name + "_total" : name;
            _buckets = AdvisedBuckets(instrument) ?? DefaultBuckets;
        }

        /// <summary>The instrument's own bucket advice (e.g. batch sizes 1, 2, 4, …), if it has one.</summary>
        private static double[]? AdvisedBuckets(Instrument instrument)
        {
            var advice = instrument.GetType().GetProperty("Advice")?.GetValue(instrument);
            return advice?.GetType().GetProperty("HistogramBucketBoundaries")?.GetValue(advice) is System.Collections.IEnumerable bounds
                ? [.. bounds.Cast<object>().Select(b => Convert.ToDouble(b, System.Globalization.CultureInfo.InvariantCulture))]
                : null;
        }

        public string Name { get; }

        private string Base { get; }

        public void Add(ReadOnlySpan<char> labels, double value)
        {
            lock (_lock)
            {
                if (!_lookup.TryGetValue(labels, out var slot))
                {
                    slot = new double[_kind == Kind.Histogram ? _buckets.Length + 2 : 1];
                    _values[labels.ToString()] = slot;
                }

                if (_kind == Kind.Histogram)
                {
                    for (var i = 0; i < _buckets.Length; i++)
                    {
                        if (value <= _buckets[i])
                        {
                            slot[i]++;
                        }
                    }

                    slot[_buckets.Length] += value;    // sum
                    slot[_buckets.Length + 1]++;       // count
                }
                else if (_cumulative)
                {
                    slot[0] = value;                   // an observation is the current value
                }
                else
                {
                    slot[0] += value;
                }
            }
        }

        public void Render(StringBuilder text)
        {
            lock (_lock)
            {
                if (_values.Count == 0)
                {
                    return;
                }

                var family = _kind == Kind.Counter ? Name : Base;
                if (!string.IsNullOrEmpty(_help))
                {
                    text.Append("# HELP ").Append(family).Append(' ').Append(_help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)).Append('\n');
                }

                text.Append("# TYPE ").Append(family).Append(' ').Append(_kind switch { Kind.Counter => "counter", Kind.Histogram => "histogram", _ => "gauge" }).Append('\n');
                foreach (var (labels, slot) in _values.OrderBy(v => v.Key, StringComparer.Ordinal))
                {
                    if (_kind != Kind.Histogram)
                    {
                        Line(text, Name, labels, slot[0]);
                        continue;
                    }

                    for (var i = 0; i < _buckets.Length; i++)
                    {
                        Line(text, Base + "_bucket", Join(labels, $"le=\"{Number(_buckets[i])}\""), slot[i]);
                    }

                    Line(text, Base + "_bucket", Join(labels, "le=\"+Inf\""), slot[_buckets.Length + 1]);
                    Line(text, Base + "_sum", labels, slot[_buckets.Length]);
                    Line(text, Base + "_count", labels, slot[_buckets.Length + 1]);
                }
            }
        }

        private static string Join(string labels, string extra) => labels.Length == 0 ? extra : labels + "," + extra;

        private static void Line(StringBuilder text, string name, string labels, double value)
        {
            text.Append(name);
            if (labels.Length > 0)
            {
                text.Append('{').Append(labels).Append('}');
            }

            text.Append(' ').Append(Number(value)).Append('\n');
        }
    }
}
