using System.Globalization;
using System.Text;

namespace Actors.Fleet.Simulation;

/// <summary>An SVG of simulation timelines: queue depth, and instances by state (stacked), one
/// pair of panels per policy, sharing the time axis.</summary>
public static class TimelineChart
{
    private static readonly (string Name, string Colour, Func<Sample, int> Count)[] States =
    [
        ("serving", "#2e7d32", s => s.Serving),
        ("hot", "#f9a825", s => s.Hot),
        ("starting", "#ef6c00", s => s.Starting),
        ("warm", "#1565c0", s => s.Warm),
        ("renting", "#9e9e9e", s => s.Renting),
    ];

    public static string Render(IReadOnlyList<SimulationResult> results, double? maxHours = null)
    {
        const int width = 1200, panel = 160, gap = 40, left = 60, right = 130;
        var height = results.Count * (2 * panel + 2 * gap) + gap;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        var y = gap;
        foreach (var r in results)
        {
            var samples = r.Timeline.Where(s => maxHours is null || s.Hours <= maxHours).ToList();
            if (samples.Count < 2)
            {
                continue;
            }

            var hours = samples[^1].Hours;
            double X(double h) => left + (width - left - right) * h / hours;

            // Queue depth.
            var maxDepth = Math.Max(1, samples.Max(s => s.QueueDepth));
            Title(svg, left, y - 8, $"{r.Policy}: queue depth (max {maxDepth})");
            Axis(svg, left, y, width - left - right, panel, hours, maxDepth);
            svg.Append("<polyline fill=\"none\" stroke=\"#c62828\" stroke-width=\"1\" points=\"");
            foreach (var s in samples)
            {
                svg.Append(CultureInfo.InvariantCulture, $"{X(s.Hours):0.#},{y + panel - panel * s.QueueDepth / (double)maxDepth:0.#} ");
            }

            svg.Append("\"/>\n");
            y += panel + gap;

            // Instances by state, stacked.
            var maxInstances = Math.Max(1, samples.Max(s => States.Sum(st => st.Count(s))));
            Title(svg, left, y - 8, $"{r.Policy}: instances by state (${r.TotalCostUsd:0.00} in {r.Days:0} days)");
            Axis(svg, left, y, width - left - right, panel, hours, maxInstances);
            var legendY = y + 10;
            for (var k = 0; k < States.Length; k++)
            {
                var (name, colour, _) = States[k];
                svg.Append("<polygon fill=\"").Append(colour).Append("\" fill-opacity=\"0.85\" points=\"");
                var upper = new List<string>();
                var lower = new List<string>();
                foreach (var s in samples)
                {
                    var below = States.Take(k).Sum(st => st.Count(s));
                    var top = below + States[k].Count(s);
                    upper.Add(string.Create(CultureInfo.InvariantCulture, $"{X(s.Hours):0.#},{y + panel - panel * top / (double)maxInstances:0.#}"));
                    lower.Add(string.Create(CultureInfo.InvariantCulture, $"{X(s.Hours):0.#},{y + panel - panel * below / (double)maxInstances:0.#}"));
                }

                lower.Reverse();
                svg.Append(string.Join(' ', upper.Concat(lower))).Append("\"/>\n");
                svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{width - right + 15}\" y=\"{legendY + 16 * k}\" width=\"10\" height=\"10\" fill=\"{colour}\"/>");
                svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{width - right + 30}\" y=\"{legendY + 16 * k + 9}\">{name}</text>\n");
            }

            y += panel + gap;
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static void Title(StringBuilder svg, int x, int y, string text) =>
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x}\" y=\"{y}\" font-weight=\"bold\">{System.Security.SecurityElement.Escape(text)}</text>\n");

    private static void Axis(StringBuilder svg, int x, int y, int w, int h, double hours, int max)
    {
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" fill=\"none\" stroke=\"#999\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x - 6}\" y=\"{y + 10}\" text-anchor=\"end\">{max}</text><text x=\"{x - 6}\" y=\"{y + h}\" text-anchor=\"end\">0</text>\n");
        var step = hours > 24 * 4 ? 24 * 7 : hours > 24 ? 24 : 6;
        for (var t = 0.0; t <= hours; t += step)
        {
            var px = x + w * t / hours;
            var label = step >= 24 ? $"day {t / 24:0}" : $"{t:0} h";
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{px:0.#}\" y1=\"{y + h}\" x2=\"{px:0.#}\" y2=\"{y + h + 4}\" stroke=\"#999\"/><text x=\"{px:0.#}\" y=\"{y + h + 16}\" text-anchor=\"middle\">{label}</text>\n");
        }
    }
}
