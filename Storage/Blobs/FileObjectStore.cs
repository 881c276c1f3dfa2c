namespace Actors.Storage.Blobs;

/// <summary>Objects as files under a root folder, key = relative path. Writes go to a temp file
/// beside the target and are moved into place, so a reader never sees half an object.</summary>
public sealed class FileObjectStore(string root) : IObjectStore
{
    public string Root { get; } = Path.GetFullPath(root);

    public string Kind => "file";

    public Task PrepareAsync(IReadOnlyDictionary<string, int> expireDays, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Root);
        return Task.CompletedTask;
    }

    public Task PutFileAsync(string key, string path, string contentType, CancellationToken cancellationToken)
    {
        Put(key, path);
        return Task.CompletedTask;
    }

    public Task<Stream?> OpenAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            return Task.FromResult<Stream?>(new FileStream(PathOf(key), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, useAsync: true));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public Task<bool> ExistsAsync(string key, CancellationToken cancellationToken) => Task.FromResult(File.Exists(PathOf(key)));

    public Task<bool> CopyAsync(string fromKey, string toKey, CancellationToken cancellationToken)
    {
        var source = PathOf(fromKey);
        if (!File.Exists(source))
        {
            return Task.FromResult(false);
        }

        try
        {
            Put(toKey, source); // same bytes whoever wins; a source deleted meanwhile is "gone"
            return Task.FromResult(true);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult(false);
        }
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        File.Delete(path);
        return Task.CompletedTask;
    }

    private void Put(string key, string path)
    {
        var target = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temp = $"{target}.{Guid.NewGuid():N}.tmp";
        File.Copy(path, temp, overwrite: true);
        File.Move(temp, target, overwrite: true);
    }

    private string PathOf(string key)
    {
        var path = Path.GetFullPath(Path.Combine(Root, key));
        return path.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            ? path
            : throw new ArgumentException($"blob key '{key}' leaves the blob folder", nameof(key));
    }
}
