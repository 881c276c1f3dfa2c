namespace Actors.Grains.Hosting;

/// <summary>A grain whose interleaved calls wait for its changes (long polls): when its activation
/// is dropped (<see cref="DropStateOnFailedCall"/>) they are answered at once, so the activation
/// goes idle and is deactivated instead of serving from memory until they time out.</summary>
public interface IHoldsWaiters
{
    void ReleaseWaiters();
}
