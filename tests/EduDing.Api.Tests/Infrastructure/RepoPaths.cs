namespace EduDing.Api.Tests.Infrastructure;

public static class RepoPaths
{
    /// <summary>The checkout's top folder: the nearest parent of the test binaries that holds EduDing.sln.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EduDing.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("EduDing.sln not found above " + AppContext.BaseDirectory);
    }
}
