namespace Actors.Grains;

/// <summary>Returns references to virtual grains: a grain exists as soon as it is called.</summary>
public interface IGrainFactory
{
    TGrain GetGrain<TGrain>(string key)
        where TGrain : IGrainWithStringKey;
}
