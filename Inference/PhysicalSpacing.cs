namespace Actors.Inference;

/// <summary>What a pixel or voxel size may physically be, in millimetres: from one micron (micro-CT
/// resolves a few) to a metre. Below it a volume rounds to 0 ml and an area to nothing, so a value
/// like 1e-40 is a mistake to refuse (422), not a measurement to report.</summary>
public static class PhysicalSpacing
{
    public const double MinMillimetres = 0.001;

    public const double MaxMillimetres = 1000;

    public static bool IsValid(double millimetres) =>
        double.IsFinite(millimetres) && millimetres >= MinMillimetres && millimetres <= MaxMillimetres;

    /// <summary>The range as the error messages and the API description say it.</summary>
    public static string Range => $"from {MinMillimetres} to {MaxMillimetres} mm";
}
