namespace Actors.Silo.Cluster;

/// <summary>Keys the embedded silo generates, saved readable by the owner only.</summary>
internal static class SecretFiles
{
    public static async Task WriteAsync(string path, string secret)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, secret + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    /// <summary>The key in <paramref name="path"/>, created (random) on first use.</summary>
    public static string LoadOrCreate(string path)
    {
        if (File.Exists(path))
        {
            return File.ReadAllText(path).Trim();
        }

        var key = "adm_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
        WriteAsync(path, key).GetAwaiter().GetResult();
        return key;
    }
}
