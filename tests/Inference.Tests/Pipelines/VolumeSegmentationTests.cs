using Actors.Inference.Errors;
using Actors.Inference.Pipelines;
using Actors.Inference.Volumes;

namespace Actors.Inference.Tests.Pipelines;

/// <summary>CT volumes through the real engine: a phantom of ellipsoid organs of known volume,
/// every slice segmented through the dynamic batcher, the 3-D passport against the truth.</summary>
public sealed class VolumeSegmentationTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private const int Nx = 128, Ny = 128, Nz = 48;
    private const double Dx = 1.5, Dy = 1.5, Dz = 2.5;

    private static readonly Lazy<float[]> Phantom = new(() => PhantomVolumes.Draw(Nx, Ny, Nz, PhantomVolumes.Organs, seed: 16));

    private Task<VolumeSegmentationOutput> RunAsync(byte[] nifti, IProgress<(int, int)>? progress = null) =>
        fixture.Engine.RunAsync("segmentation", new InferenceRequest { Input = nifti, ContentType = Nifti.ContentType, Progress = progress })
            .ContinueWith(t => (VolumeSegmentationOutput)t.Result, TaskScheduler.Default);

    [Fact]
    public async Task EachOrgansVolumeIsWithinTenPercentOfTheEllipsoidAndAnAbsentOneIsAbsent()
    {
        var done = new List<int>();
        var output = await RunAsync(PhantomVolumes.Nifti(Phantom.Value, Nx, Ny, Nz, Dx, Dy, Dz), new Progress(done));

        var passport = output.Passport;
        Assert.Equal([Nx, Ny, Nz], passport.Dimensions);
        Assert.Equal([Dx, Dy, Dz], passport.VoxelSizeMm);
        Assert.Equal("sform", passport.Orientation);
        foreach (var organ in PhantomVolumes.Organs)
        {
            var measured = passport.Structures.Single(s => s.Index == organ.Label);
            var truth = organ.VolumeMl(Dx, Dy, Dz);
            Assert.True(measured.Present, $"label {organ.Label} should be present");
            var error = Math.Abs(measured.VolumeMl - truth) / truth;
            Assert.True(error <= 0.10, $"{measured.Label}: {measured.VolumeMl:F1} ml vs truth {truth:F1} ml ({error:P1} off)");

            // Where: the centroid in scanner mm (sform origin -90, -120, -60), the slices it spans.
            double[] expected = [-90 + organ.Ci * Dx, -120 + organ.Cj * Dy, -60 + organ.Ck * Dz];
            for (var a = 0; a < 3; a++)
            {
                Assert.InRange(measured.CentroidMm![a], expected[a] - 3, expected[a] + 3);
            }

            Assert.InRange(measured.Slices!.First, (int)(organ.Ck - organ.Rk) - 2, (int)(organ.Ck - organ.Rk) + 2);
            Assert.InRange(measured.Slices.Last, (int)(organ.Ck + organ.Rk) - 2, (int)(organ.Ck + organ.Rk) + 2);
            Assert.True(measured.BoundingBoxMm![0] < expected[0] && expected[0] < measured.BoundingBoxMm[3]);
        }

        Assert.False(passport.Structures.Single(s => s.Label == "lesion").Present);

        // Every slice was reported, the last one last.
        Assert.Equal(Nz, done.Count);
        Assert.Equal(Nz, done.Max());

        // The label volume carries the source's geometry and the same counts.
        var (geometry, labels) = Nifti.ReadLabels(output.LabelVolume!);
        Assert.Equal((Nx, Ny, Nz, Dx, Dy, Dz), (geometry.Nx, geometry.Ny, geometry.Nz, geometry.Dx, geometry.Dy, geometry.Dz));
        foreach (var s in passport.Structures)
        {
            Assert.Equal(s.Voxels, labels.LongCount(l => l == s.Index));
        }
    }

    [Fact]
    public async Task GzippedAndPlainAndOtherDataTypesGiveTheSameAnswer()
    {
        var plain = await RunAsync(PhantomVolumes.Nifti(Phantom.Value, Nx, Ny, Nz, Dx, Dy, Dz));
        var gzipped = await RunAsync(PhantomVolumes.Nifti(Phantom.Value, Nx, Ny, Nz, Dx, Dy, Dz, gzip: true));
        var asFloat = await RunAsync(PhantomVolumes.Nifti(Phantom.Value, Nx, Ny, Nz, Dx, Dy, Dz, datatype: 16, bigEndian: true));

        Assert.Equal(Voxels(plain), Voxels(gzipped));
        Assert.Equal(plain.Passport.Structures.Select(s => s.Present), asFloat.Passport.Structures.Select(s => s.Present));
        foreach (var (a, b) in Voxels(plain).Zip(Voxels(asFloat)))
        {
            Assert.InRange(b, a * 0.98 - 5, a * 1.02 + 5); // int16 rounding of the same intensities
        }

        static long[] Voxels(VolumeSegmentationOutput o) => [.. o.Passport.Structures.Select(s => s.Voxels)];
    }

    [Theory]
    [InlineData("magic", "magic")]
    [InlineData("truncated", "truncated")]
    [InlineData("dtype", "datatype 64")]
    [InlineData("bitpix", "bitpix")]
    [InlineData("dims", "dimensions")]
    [InlineData("4d", "4-D series")]
    [InlineData("pixdim", "pixdim")]
    [InlineData("short", "cut short")]
    public void ABadVolumeIsRefusedWithItsReason(string defect, string reason)
    {
        var file = PhantomVolumes.Nifti(new float[8 * 8 * 4], 8, 8, 4, 1, 1, 1);
        var h = file.AsSpan();
        switch (defect)
        {
            case "magic": h[344] = (byte)'x'; break;
            case "truncated": file = file[..^10]; break;
            case "dtype": System.Buffers.Binary.BinaryPrimitives.WriteInt16LittleEndian(h[70..], 64); break;
            case "bitpix": System.Buffers.Binary.BinaryPrimitives.WriteInt16LittleEndian(h[72..], 32); break;
            case "dims": System.Buffers.Binary.BinaryPrimitives.WriteInt16LittleEndian(h[44..], 0); break;
            case "4d":
                System.Buffers.Binary.BinaryPrimitives.WriteInt16LittleEndian(h[40..], 4);
                System.Buffers.Binary.BinaryPrimitives.WriteInt16LittleEndian(h[48..], 3);
                break;
            case "pixdim": System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(h[84..], -1f); break;
            case "short": file = file[..200]; break;
        }

        var e = Assert.ThrowsAny<InvalidInputException>(() => Nifti.Inspect(file, 1 << 20));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FuzzedHeadersAreRefusedWithAReasonOrRead()
    {
        // 3000 headers with 1 to 8 random bytes changed, plain and gzipped: each is read, or
        // refused with one of the two typed errors the API turns into 422 / 413 — nothing else.
        var good = PhantomVolumes.Nifti(PhantomVolumes.Draw(12, 10, 3, [], seed: 2), 12, 10, 3, 1, 1, 1);
        var rng = new Random(1612);
        for (var n = 0; n < 3000; n++)
        {
            var file = (byte[])good.Clone();
            for (var flips = rng.Next(1, 9); flips > 0; flips--)
            {
                file[rng.Next(0, 352)] = (byte)rng.Next(256);
            }

            if (n % 3 == 0)
            {
                using var output = new MemoryStream();
                using (var z = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
                {
                    z.Write(file);
                }

                file = output.ToArray();
            }

            try
            {
                var volume = Nifti.Read(file, 1 << 20);
                Assert.Equal(volume.Geometry.Voxels, volume.Voxels.LongLength);
            }
            catch (Exception e) when (e is InvalidInputException or VolumeTooLargeException)
            {
                Assert.StartsWith(e is InvalidInputException ? "bad NIfTI volume: " : "the ", e.Message, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void AGzipBombStopsAtTheLimitInsteadOfInflating()
    {
        // 64 MiB of voxels declared and present (zeros gzip to almost nothing), a 1 MiB limit.
        var file = PhantomVolumes.Nifti(new float[512 * 512 * 64], 512, 512, 64, 1, 1, 1, datatype: 4, gzip: true);
        Assert.True(file.Length < 1 << 20);
        Assert.Throws<VolumeTooLargeException>(() => Nifti.Inspect(file, 1 << 20));
    }

    private sealed class Progress(List<int> done) : IProgress<(int Done, int Total)>
    {
        public void Report((int Done, int Total) value)
        {
            lock (done)
            {
                done.Add(value.Done);
            }
        }
    }
}
