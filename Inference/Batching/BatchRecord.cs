namespace Actors.Inference.Batching;

/// <summary>One forward the batcher ran: how many requests and rows, and how long it took.</summary>
public readonly record struct BatchRecord(int Requests, int Rows, TimeSpan Duration, bool Failed);
