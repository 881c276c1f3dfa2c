using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace Actors.Grains.Tests.Golden;

/// <summary>A silo of the previous version sends these bytes (<c>Golden/*.bin</c>, written by the
/// types of 4b96934 — <see cref="GoldenSamples"/>); today's types must read them as the same values,
/// or a rolling upgrade breaks mid-way. Field ids are explicit (<c>[Id]</c>) so that a property
/// added anywhere takes a new id instead of shifting the others.</summary>
public sealed class GoldenBytesTests
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    public static TheoryData<string> Names() => [.. GoldenSamples.Values.Keys];

    [Theory]
    [MemberData(nameof(Names))]
    public void TodaysTypesReadThePreviousVersionsBytes(string name)
    {
        var serializer = new ServiceCollection()
            .AddSerializer(b => b.AddAssembly(typeof(Actors.Grains.Jobs.JobSnapshot).Assembly).AddAssembly(typeof(Actors.Fleet.Providers.GpuOffer).Assembly))
            .BuildServiceProvider().GetRequiredService<Serializer>();
        var bytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Golden", name + ".bin"));
        var expected = GoldenSamples.Values[name];

        var read = serializer.Deserialize<object>(bytes);

        Assert.IsType(expected.GetType(), read);
        Assert.Equal(JsonSerializer.Serialize(expected, expected.GetType(), Json), JsonSerializer.Serialize(read, read.GetType(), Json));
    }
}
