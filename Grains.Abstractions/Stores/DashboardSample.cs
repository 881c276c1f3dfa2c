namespace Actors.Grains.Stores;

/// <summary>One point of the dashboard's charts.</summary>
public sealed record DashboardSample(DateTimeOffset At, int QueueDepth, int Cold, int Warm, int Hot, int Serving, decimal PerHour, decimal SpentTodayUsd);
