namespace EduDing.DingTalk.Sandbox.Generation;

/// <summary>The size of a generated organization.</summary>
public sealed record SandboxPreset(
    string Name,
    int PrimarySchools,
    int JuniorSchools,
    int PrimaryClassesPerGrade,
    int JuniorClassesPerGrade,
    int StudentsPerClass,
    int BureauStaff,
    int ExtraStaffPerSchool)
{
    /// <summary>A bureau and 5 schools, about 1,500 students: what a newcomer sees on the default run.</summary>
    public static SandboxPreset Demo { get; } = new("demo", 3, 2, 2, 4, 25, 40, 12);

    /// <summary>The city: 100 schools, 3,000 classes, 120,000 students, about 200,000 guardians and 10,000 staff.</summary>
    public static SandboxPreset Haining { get; } = new("haining", 70, 30, 5, 10, 40, 200, 4);

    /// <summary>A dozen schools, about 12,000 students and 20,000 guardians: for fan-out, crash and two-instance tests.</summary>
    public static SandboxPreset District { get; } = new("district", 8, 4, 4, 6, 45, 60, 8);

    /// <summary>One very large school, about 58,000 students and 100,000 guardians: the notice fan-out benchmark.</summary>
    public static SandboxPreset NoticeBench { get; } = new("notice-bench", 1, 0, 160, 0, 60, 10, 0);

    public static SandboxPreset Parse(string name) => name.ToLowerInvariant() switch
    {
        "demo" => Demo,
        "district" => District,
        "notice-bench" => NoticeBench,
        "haining" => Haining,
        _ => throw new ArgumentException($"Unknown sandbox preset '{name}' (demo, district, notice-bench or haining).", nameof(name)),
    };
}
