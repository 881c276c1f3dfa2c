using Actors.Inference.Imaging;
using Actors.Inference.Pipelines;

namespace Actors.Inference.Tests.Pipelines;

public sealed class SegmentationTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private static readonly Phantoms.Disc[] Discs =
    [
        new(1, 45, 50, 20),
        new(2, 88, 45, 13),
        new(3, 70, 92, 16),
        new(4, 40, 90, 7),
    ];

    [Fact]
    public async Task EachDiscsAreaIsWithinTenPercentOfTheTruth()
    {
        var png = Phantoms.Png8(Phantoms.Draw(128, Discs, seed: 7), 128);

        var output = (SegmentationOutput)await fixture.Engine.RunAsync("segmentation", new InferenceRequest { Input = png });

        foreach (var disc in Discs)
        {
            var measured = output.Passport.Structures.Single(s => s.Index == disc.Label);
            Assert.True(measured.Present, $"label {disc.Label} should be present");
            var error = Math.Abs(measured.AreaMm2 - disc.Area) / disc.Area;
            Assert.True(error <= 0.10, $"label {measured.Label}: area {measured.AreaMm2:F0} vs truth {disc.Area:F0} ({error:P1} off)");
            Assert.InRange(measured.CentroidPx![0], disc.CenterX - 2.5, disc.CenterX + 1.5);
            Assert.InRange(measured.CentroidPx![1], disc.CenterY - 2.5, disc.CenterY + 1.5);
        }
    }

    [Fact]
    public async Task AbsentOrgansAreReportedAbsent()
    {
        var png = Phantoms.Png8(Phantoms.Draw(128, [new Phantoms.Disc(2, 64, 64, 18)], seed: 3), 128);

        var output = (SegmentationOutput)await fixture.Engine.RunAsync("segmentation", new InferenceRequest { Input = png });

        Assert.Equal(["kidney"], output.Passport.Structures.Where(s => s.Present).Select(s => s.Label));
    }

    [Fact]
    public async Task SixteenBitInputLargerImageAndSpacingGiveAreasInMillimetres()
    {
        // 256x256 at 0.5 mm: the same anatomy as 128x128 at 1 mm, so the same mm² areas.
        var png = Phantoms.Png16(Phantoms.Draw(256, Discs, seed: 11, scale: 2.0), 256);

        var output = (SegmentationOutput)await fixture.Engine.RunAsync("segmentation", new InferenceRequest
        {
            Input = png, SpacingXMm = 0.5, SpacingYMm = 0.5, SliceThicknessMm = 2.0,
        });

        Assert.Equal(256, output.Passport.Width);
        foreach (var disc in Discs.Where(d => d.Radius >= 10))
        {
            var measured = output.Passport.Structures.Single(s => s.Index == disc.Label);
            Assert.True(Math.Abs(measured.AreaMm2 - disc.Area) / disc.Area <= 0.10, $"{measured.Label}: {measured.AreaMm2} vs {disc.Area}");
            Assert.Equal(measured.AreaMm2 * 2.0 / 1000, measured.VolumeMl!.Value, 3);
        }
    }

    [Fact]
    public async Task TheLabelMapIsAPngOfLabelIndicesMatchingThePassport()
    {
        var png = Phantoms.Png8(Phantoms.Draw(128, Discs, seed: 5), 128);

        var output = (SegmentationOutput)await fixture.Engine.RunAsync("segmentation", new InferenceRequest { Input = png });

        var map = ImageCodec.Decode(output.Png, 1 << 20);
        Assert.Equal((128, 128, 1), (map.Width, map.Height, map.Channels));
        foreach (var s in output.Passport.Structures)
        {
            var count = map.Pixels.Count(v => (int)Math.Round(v * 255) == s.Index);
            Assert.Equal(s.Pixels, count);
        }
    }

    [Fact]
    public async Task GreyStoredAsRgbIsAccepted()
    {
        var grey = Phantoms.Draw(128, Discs, seed: 9);
        var rgb = grey.SelectMany(v => Enumerable.Repeat((byte)Math.Round(v * 255), 3)).ToArray();

        var output = (SegmentationOutput)await fixture.Engine.RunAsync("segmentation",
            new InferenceRequest { Input = ImageCodec.EncodePng(128, 128, 3, rgb) });

        Assert.True(output.Passport.Structures.Single(s => s.Index == 1).Present);
    }
}
