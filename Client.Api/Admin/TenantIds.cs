namespace Actors.Client.Api.Admin;

/// <summary>What a tenant id may be: 1 to 64 ASCII letters, digits, '_' and '-'. Checked where an
/// id comes from outside (an operator's body, a Stripe event's metadata or client reference), so
/// a blank or strange one names no grain (Orleans refuses a blank key with an exception).</summary>
public static class TenantIds
{
    public const int MaxLength = 64;

    public static bool IsValid([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? id) =>
        id is { Length: > 0 and <= MaxLength } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');
}
