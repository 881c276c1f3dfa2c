namespace Actors.Runtime.Storage;

/// <summary>A SQL statement (Dapper parameters, <c>@name</c>) that commits with a grain's state
/// in the turn's own transaction: both land or neither does. For rows that must agree with the
/// state exactly, such as a ledger whose sum the state caches.</summary>
public sealed record StagedWrite(string Sql, object? Param);
