using System.Text.Json;
using System.Text.Json.Serialization;
using Orleans.Storage;

namespace Actors.Storage.OrleansProviders;

/// <summary>Grain state as compact JSON (web casing, nulls left out) in Orleans' ADO.NET storage:
/// the state records need no serializer attributes, and the stored payload stays readable with
/// SQL when an operator has to look.</summary>
public sealed class JsonGrainStateSerializer : IGrainStorageSerializer
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public BinaryData Serialize<T>(T? input) => new(JsonSerializer.SerializeToUtf8Bytes(input, Options));

    public T Deserialize<T>(BinaryData input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return JsonSerializer.Deserialize<T>(input.ToMemory().Span, Options)!;
    }
}
