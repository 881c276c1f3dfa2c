using System.CommandLine;

namespace Actors.Silo.Commands;

/// <summary>The silo's commands besides serving: <c>silo plan</c>, <c>silo simulate</c>, <c>silo loadtest</c>, <c>silo providers check</c>. With
/// no command (or only options) the silo serves.</summary>
internal static class SiloCommands
{
    private static readonly string[] Names = ["plan", "simulate", "loadtest", "providers", "--help", "-h", "help"];

    public static bool Handles(string first) => Names.Contains(first, StringComparer.Ordinal);

    public static Task<int> RunAsync(string[] args)
    {
        if (Console.IsOutputRedirected)
        {
            Spectre.Console.AnsiConsole.Profile.Width = 160;
        }

        var root = new RootCommand("Actors silo: with no command it serves (roles from --roles or Silo:Roles)")
        {
            FleetCommands.Plan(),
            FleetCommands.Simulate(),
            LoadTestCommand.Create(),
            ProvidersCommand.Create(),
        };
        return root.Parse(args.Select(a => a == "help" ? "--help" : a).ToArray()).InvokeAsync();
    }
}
