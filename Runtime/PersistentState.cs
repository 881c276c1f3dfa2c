using System.Globalization;
using System.Text.Json;
using Actors.Grains;

namespace Actors.Runtime;

/// <summary>IPersistentState over one turn: loaded at the turn's start, written (if
/// <see cref="WriteStateAsync"/> was called) when the turn commits.</summary>
internal sealed class PersistentState<TState> : IPersistentState<TState>, IStagedState
    where TState : class
{
    private readonly JsonSerializerOptions _json;

    public PersistentState(Storage.StoredState? stored, JsonSerializerOptions json)
    {
        _json = json;
        RecordExists = stored is not null;
        Etag = stored?.Version.ToString(CultureInfo.InvariantCulture);
        State = stored is null
            ? Activator.CreateInstance<TState>()
            : JsonSerializer.Deserialize<TState>(stored.Json, json) ?? Activator.CreateInstance<TState>();
    }

    public TState State { get; set; }

    public string? Etag { get; }

    public bool RecordExists { get; private set; }

    public string? Staged { get; private set; }

    public Task WriteStateAsync()
    {
        Staged = JsonSerializer.Serialize(State, _json);
        RecordExists = true;
        return Task.CompletedTask;
    }
}

/// <summary>What the runtime reads back from a grain's state at the end of a turn.</summary>
internal interface IStagedState
{
    string? Staged { get; }
}
