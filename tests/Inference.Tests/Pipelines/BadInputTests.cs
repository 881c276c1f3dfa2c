using System.Buffers.Binary;
using Actors.Inference.Errors;
using Actors.Inference.Imaging;
using Actors.Inference.Pipelines;
using Actors.Inference.Tests.Imaging;
using Actors.Inference.Tensors;

namespace Actors.Inference.Tests.Pipelines;

/// <summary>Every kind of bad input raises a typed error with a clear message, and the
/// engine keeps serving afterwards.</summary>
public sealed class BadInputTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private static byte[] GoodPng() => Phantoms.Png8(Phantoms.Draw(128, [new Phantoms.Disc(1, 64, 64, 20)], 1), 128);

    [Fact]
    public async Task RawInputWithTheWrongShapeIsRejected()
    {
        var e = await Assert.ThrowsAsync<InvalidInputException>(() => Run("segmentation", new InferenceRequest
        {
            Input = new byte[3 * 128 * 128 * 4], ContentType = ImageInput.RawFloat32, Shape = [3, 128, 128],
        }));
        Assert.Contains("takes shape [1, 128, 128]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RawInputOfTheWrongDtypeIsRejected()
    {
        var e = await Assert.ThrowsAsync<InvalidInputException>(() => Run("segmentation", new InferenceRequest
        {
            Input = new byte[128 * 128 * 8], ContentType = ImageInput.RawFloat32, Shape = [1, 128, 128],
        }));
        Assert.Contains("int64 data? send float32", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RawInputWithNaNIsRejected()
    {
        var data = new float[128 * 128];
        data[5] = float.NaN;
        var bytes = new byte[data.Length * 4];
        Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
        await Assert.ThrowsAsync<InvalidInputException>(() => Run("segmentation", new InferenceRequest
        {
            Input = bytes, ContentType = ImageInput.RawFloat32, Shape = [1, 128, 128],
        }));
    }

    [Fact]
    public async Task AColourImageForAGreyscaleModelIsRejected()
    {
        var rgb = Enumerable.Range(0, 128 * 128 * 3).Select(i => (byte)(i % 3 == 0 ? 200 : 10)).ToArray();
        var e = await Assert.ThrowsAsync<InvalidInputException>(() =>
            Run("segmentation", new InferenceRequest { Input = ImageCodec.EncodePng(128, 128, 3, rgb) }));
        Assert.Contains("1-channel (greyscale)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACorruptPngIsRejected()
    {
        var png = GoodPng();
        png[png.Length / 2] ^= 0x5A;
        var e = await Assert.ThrowsAsync<ImageFormatException>(() => Run("segmentation", new InferenceRequest { Input = png }));
        Assert.Contains("corrupt", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATruncatedPngIsRejected()
    {
        var png = GoodPng();
        await Assert.ThrowsAsync<ImageFormatException>(() =>
            Run("segmentation", new InferenceRequest { Input = png.AsMemory(0, png.Length - 20) }));
    }

    [Fact]
    public async Task NotAnImageIsRejected()
    {
        var e = await Assert.ThrowsAsync<ImageFormatException>(() =>
            Run("segmentation", new InferenceRequest { Input = "GIF89a......"u8.ToArray() }));
        Assert.Contains("not an image", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnsupportedContentTypeIsRejected()
    {
        var e = await Assert.ThrowsAsync<ImageFormatException>(() =>
            Run("segmentation", new InferenceRequest { Input = GoodPng(), ContentType = "image/gif" }));
        Assert.Contains("image/gif", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnImageOverTheSizeLimitIsRejectedBeforeDecoding()
    {
        // A valid header that claims 60000 x 60000; the data is tiny. Nothing must be allocated for it.
        var png = ImageCodec.EncodePng(1, 1, 1, [0]);
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), 60000);
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), 60000);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(29), ReferenceCrc32.Compute(png.AsSpan(12, 17)));
        var e = await Assert.ThrowsAsync<ImageTooLargeException>(() => Run("segmentation", new InferenceRequest { Input = png }));
        Assert.Contains("60000x60000", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEmptyUploadIsRejected()
    {
        await Assert.ThrowsAsync<InvalidInputException>(() => Run("classification", new InferenceRequest()));
    }

    [Fact]
    public async Task AnUnknownModelIsRejected()
    {
        var e = await Assert.ThrowsAsync<UnknownModelException>(() => Run("nope", new InferenceRequest()));
        Assert.Contains("segmentation", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadSpacingIsRejected()
    {
        await Assert.ThrowsAsync<InvalidInputException>(() =>
            Run("segmentation", new InferenceRequest { Input = GoodPng(), SpacingXMm = -1 }));
        await Assert.ThrowsAsync<InvalidInputException>(() =>
            Run("segmentation", new InferenceRequest { Input = GoodPng(), SliceThicknessMm = double.NaN }));
    }

    [Fact]
    public void AWrongShapeThatReachesLibtorchBecomesATypedErrorWithTheCauseFirst()
    {
        var model = fixture.Engine.Get("segmentation");
        using var module = TorchModule.Load(model.Definition.ModelFile, fixture.Engine.Device);

        var e = Assert.Throws<TorchRuntimeException>(() => module.Forward(Tensor.FromFloat32(new float[3 * 32 * 32], 1, 3, 32, 32)));

        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains("channels", e.Message, StringComparison.Ordinal);
        Assert.Contains("Traceback", e.Detail, StringComparison.Ordinal);
        // The process and the module are fine afterwards.
        Assert.Single(module.Forward(Tensor.FromFloat32(new float[128 * 128], 1, 1, 128, 128)));
    }

    [Fact]
    public void AWrongDtypeIsStoppedBeforeLibtorch()
    {
        var model = fixture.Engine.Get("segmentation");
        var e = Assert.Throws<InvalidInputException>(() => model.ForwardDirect([Tensor.FromInt64(new long[128 * 128], 1, 1, 128, 128)]));
        Assert.Contains("must be float32", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheEngineStillServesAfterBadInputs()
    {
        await Assert.ThrowsAnyAsync<InferenceException>(() => Run("segmentation", new InferenceRequest { Input = new byte[] { 1, 2, 3 } }));
        var output = (SegmentationOutput)await Run("segmentation", new InferenceRequest { Input = GoodPng() });
        Assert.True(output.Passport.Structures.Single(s => s.Index == 1).Present);
    }

    private Task<InferenceOutput> Run(string model, InferenceRequest request) => fixture.Engine.RunAsync(model, request);
}
