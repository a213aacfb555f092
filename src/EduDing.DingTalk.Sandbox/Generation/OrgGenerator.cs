using EduDing.DingTalk.Sandbox.Model;

namespace EduDing.DingTalk.Sandbox.Generation;

/// <summary>
/// Builds an organization from a seed and a preset, deterministically: the same seed and preset always give the
/// same corps, ids, names and rosters (one seeded Random, consumed in a fixed order).
/// </summary>
public sealed class OrgGenerator
{
    private const string Alphanumeric = "abcdefghijklmnopqrstuvwxyz0123456789";
    private const string MixedAlphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private static readonly string[] PrimaryGrades = ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"];
    private static readonly string[] JuniorGrades = ["七年级", "八年级", "九年级"];
    private static readonly string[] Subjects = ["语文", "数学", "英语", "科学", "体育", "音乐", "美术", "信息"];
    private static readonly string[] RelationCodes = ["F", "M", "F", "M", "F", "M", "GF", "GM", "GFA", "GMA", "O"];

    private readonly Random _random;
    private readonly SandboxPreset _preset;
    private readonly int _schoolYear;
    private long _nextEduNodeId = 400_000_001;
    private int _corpIndex;

    // Guardians who already have a child somewhere, for siblings and for parents with children in two schools.
    private readonly List<(string UnionId, string Name, char Surname)> _parentsSoFar = [];
    private readonly Dictionary<(string CorpId, string UnionId), SandboxEduMember> _guardiansByUnionId = new();
    private readonly Dictionary<string, string> _relationOfGuardian = new(StringComparer.Ordinal);

    public OrgGenerator(int seed, SandboxPreset preset, int schoolYear = 2026)
    {
        _random = new Random(seed);
        _preset = preset;
        _schoolYear = schoolYear;
    }

    public List<SandboxCorp> Generate()
    {
        var corps = new List<SandboxCorp> { GenerateBureau() };
        var schools = _preset.PrimarySchools + _preset.JuniorSchools;
        for (var i = 0; i < schools; i++)
        {
            corps.Add(GenerateSchool(i, primary: i < _preset.PrimarySchools));
        }

        return corps;
    }

    private SandboxCorp NewCorp(string name, CorpKind kind)
    {
        _corpIndex++;
        var corp = new SandboxCorp
        {
            CorpId = "ding" + RandomString(Alphanumeric, 16),
            Name = name,
            Kind = kind,
            AppKey = "ding" + RandomString(Alphanumeric, 16),
            AppSecret = RandomString(MixedAlphanumeric, 64),
            AgentId = 3_000_000_000L + _corpIndex,
            CallbackToken = RandomString(MixedAlphanumeric, 16),
            CallbackAesKey = RandomString(MixedAlphanumeric, 43),
        };
        corp.Departments[1] = new SandboxDept { Id = 1, Name = name, ParentId = 0 };
        return corp;
    }

    private SandboxCorp GenerateBureau()
    {
        var corp = NewCorp("海宁市教育局", CorpKind.Bureau);
        var nextDept = 100_001L;
        string[] offices = ["局办公室", "基础教育科", "体卫艺科", "人事科", "计划财务科", "教育研究中心", "教师发展中心"];
        var officeIds = new List<long>();
        foreach (var office in offices)
        {
            var id = nextDept++;
            corp.Departments[id] = new SandboxDept { Id = id, Name = office, ParentId = 1, Order = officeIds.Count };
            officeIds.Add(id);
        }

        // Research centre sections, one level deeper.
        foreach (var section in new[] { "小学教研室", "初中教研室" })
        {
            var id = nextDept++;
            corp.Departments[id] = new SandboxDept { Id = id, Name = section, ParentId = officeIds[5] };
            officeIds.Add(id);
        }

        for (var i = 0; i < _preset.BureauStaff; i++)
        {
            var user = NewStaff(corp, i, ChineseNames.Person(_random), "科员");
            user.DeptIds.Add(officeIds[i % officeIds.Count]);
            if (i % 9 == 4)
            {
                // Some staff serve in two offices.
                user.DeptIds.Add(officeIds[(i + 3) % officeIds.Count]);
            }

            if (i < officeIds.Count)
            {
                user.Title = "科长";
                user.LeaderOf.Add(officeIds[i]);
                corp.Departments[officeIds[i]].ManagerUserIds.Add(user.UserId);
            }

            user.Admin = i < 2;
            user.Boss = i == 0;
        }

        return corp;
    }

    private SandboxCorp GenerateSchool(int index, bool primary)
    {
        var corp = NewCorp(ChineseNames.School(_random, index, primary), CorpKind.School);
        var nextDept = 200_001L;
        long AddDept(string name, long parent)
        {
            var id = nextDept++;
            corp.Departments[id] = new SandboxDept { Id = id, Name = name, ParentId = parent, Order = id };
            return id;
        }

        var principalOffice = AddDept("校长室", 1);
        var academicOffice = AddDept("教务处", 1);
        var moralOffice = AddDept("德育处", 1);
        var generalOffice = AddDept("总务处", 1);
        var subjectRoot = AddDept("教研组", 1);
        var subjectGroups = Subjects.ToDictionary(s => s, s => AddDept($"{s}教研组", subjectRoot));

        // 家校 tree: campus → period → grade → class.
        var campus = AddEduNode(corp, "本部", null, EduNodeType.Campus);
        var period = AddEduNode(corp, primary ? "小学部" : "初中部", campus.Id, EduNodeType.Period);
        var grades = primary ? PrimaryGrades : JuniorGrades;
        var classesPerGrade = primary ? _preset.PrimaryClassesPerGrade : _preset.JuniorClassesPerGrade;

        var staffIndex = 0;
        SandboxUser Staff(string title, long dept)
        {
            var user = NewStaff(corp, staffIndex++, ChineseNames.Person(_random), title);
            user.DeptIds.Add(dept);
            return user;
        }

        var principal = Staff("校长", principalOffice);
        principal.Admin = principal.Boss = true;
        principal.LeaderOf.Add(principalOffice);
        corp.Departments[principalOffice].ManagerUserIds.Add(principal.UserId);
        var vice = Staff("副校长", principalOffice);
        vice.Admin = true;
        vice.DeptIds.Add(academicOffice);
        vice.LeaderOf.Add(academicOffice);
        foreach (var office in new[] { moralOffice, generalOffice })
        {
            var head = Staff("主任", office);
            head.LeaderOf.Add(office);
            corp.Departments[office].ManagerUserIds.Add(head.UserId);
        }

        for (var g = 0; g < grades.Length; g++)
        {
            var gradeLevel = primary ? g + 1 : g + 7;
            var grade = AddEduNode(corp, grades[g], period.Id, EduNodeType.Grade);
            grade.GradeLevel = gradeLevel;
            var gradeGroup = AddDept($"{grades[g]}组", 1);
            var startYear = _schoolYear - (primary ? gradeLevel - 1 : gradeLevel - 7);

            for (var c = 1; c <= classesPerGrade; c++)
            {
                var node = AddEduNode(corp, $"{grades[g]}({c})班", grade.Id, EduNodeType.Class);
                node.Nick = $"{gradeLevel}.{c}";
                node.GradeLevel = gradeLevel;
                node.StartYear = startYear.ToString(System.Globalization.CultureInfo.InvariantCulture);
                var roster = new SandboxClassRoster();
                corp.Classes[node.Id] = roster;

                // Three teachers per class: the adviser teaches Chinese; each is in a subject group and the grade group.
                string[] classSubjects = ["语文", "数学", primary && gradeLevel <= 2 ? "体育" : "英语"];
                for (var t = 0; t < classSubjects.Length; t++)
                {
                    var teacher = Staff($"{classSubjects[t]}教师", subjectGroups[classSubjects[t]]);
                    teacher.DeptIds.Add(gradeGroup);
                    if (c == 1 && t == 0)
                    {
                        teacher.LeaderOf.Add(gradeGroup);
                        corp.Departments[gradeGroup].ManagerUserIds.Add(teacher.UserId);
                    }

                    roster.Teachers.Add(new SandboxEduMember
                    {
                        UserId = teacher.UserId,
                        Name = teacher.Name,
                        UnionId = teacher.UnionId,
                        IsAdviser = t == 0,
                    });
                }

                for (var s = 1; s <= _preset.StudentsPerClass; s++)
                {
                    AddStudent(corp, roster, node, s);
                }
            }
        }

        for (var i = 0; i < _preset.ExtraStaffPerSchool; i++)
        {
            var subject = Subjects[3 + i % (Subjects.Length - 3)];
            var user = Staff($"{subject}教师", subjectGroups[subject]);
            if (i % 4 == 0)
            {
                user.DeptIds.Add(generalOffice);
            }
        }

        return corp;
    }

    private void AddStudent(SandboxCorp corp, SandboxClassRoster roster, SandboxEduNode classNode, int number)
    {
        var roll = _random.NextDouble();
        (string UnionId, string Name, char Surname)? knownParent = null;
        if (_parentsSoFar.Count > 0 && roll < 0.06)
        {
            // A sibling of a child already generated: same guardian, maybe in another school.
            knownParent = _parentsSoFar[_random.Next(_parentsSoFar.Count)];
        }
        else if (roll < 0.065 && corp.Users.Count > 0)
        {
            // A child of one of this school's teachers.
            var teacher = corp.Users.Values.ElementAt(_random.Next(corp.Users.Count));
            knownParent = (teacher.UnionId, teacher.Name, teacher.Name[0]);
        }

        var surname = knownParent?.Surname ?? ChineseNames.Person(_random)[0];
        var studentId = NewEduUserId(corp, 2);
        var student = new SandboxEduMember
        {
            UserId = studentId,
            Name = ChineseNames.Child(_random, surname),
            UnionId = _random.NextDouble() < 0.12 ? "" : RandomString(MixedAlphanumeric, 20),
            StudentNo = $"{classNode.StartYear}{classNode.Nick!.Replace(".", "", StringComparison.Ordinal)}{number:D2}",
        };
        roster.Students.Add(student);

        var guardianCount = knownParent is not null ? 1 : _random.NextDouble() < 0.8 ? 2 : 1;
        for (var i = 0; i < guardianCount; i++)
        {
            var (unionId, name) = i == 0 && knownParent is { } parent
                ? (parent.UnionId, parent.Name)
                : (RandomString(MixedAlphanumeric, 20), i == 0 ? surname + ChineseNames.Person(_random)[1..] : ChineseNames.Person(_random));
            var guardian = FindGuardianInCorp(corp, unionId);
            if (guardian is null)
            {
                guardian = new SandboxEduMember { UserId = NewEduUserId(corp, 3), Name = name, UnionId = unionId };
                _guardiansByUnionId[(corp.CorpId, unionId)] = guardian;
            }

            if (!roster.Guardians.Any(g => g.UserId == guardian.UserId))
            {
                roster.Guardians.Add(guardian);
            }

            var code = i == 0 ? RelationCodes[_random.Next(RelationCodes.Length)] : (_random.Next(2) == 0 ? "M" : "F");
            // A guardian is the same relation to each of their children, in every school (the code is drawn anyway, so
            // the rest of the data does not depend on this rule).
            if (!_relationOfGuardian.TryAdd(guardian.UnionId, code))
            {
                code = _relationOfGuardian[guardian.UnionId];
            }

            roster.Relations.Add(new SandboxRelation(guardian.UserId, studentId, code));
            if (knownParent is null && i == 0)
            {
                _parentsSoFar.Add((unionId, name, surname));
            }
        }
    }

    /// <summary>A guardian already in this corp's rosters with that unionid keeps one userid across classes.</summary>
    private SandboxEduMember? FindGuardianInCorp(SandboxCorp corp, string unionId) =>
        _guardiansByUnionId.GetValueOrDefault((corp.CorpId, unionId));

    private SandboxEduNode AddEduNode(SandboxCorp corp, string name, long? parent, EduNodeType type)
    {
        var node = new SandboxEduNode { Id = _nextEduNodeId++, Name = name, ParentId = parent, Type = type };
        corp.EduNodes[node.Id] = node;
        return node;
    }

    private SandboxUser NewStaff(SandboxCorp corp, int index, string name, string title)
    {
        var user = new SandboxUser
        {
            UserId = $"{_corpIndex:D3}1{index:D6}",
            UnionId = RandomString(MixedAlphanumeric, 20),
            Name = name,
            Title = title,
            Mobile = $"13{_random.Next(100_000_000, 999_999_999)}",
            JobNumber = $"{_corpIndex:D3}{index:D4}",
            HiredDate = new DateTimeOffset(2000 + _random.Next(25), 1 + _random.Next(12), 1, 0, 0, 0, TimeSpan.FromHours(8))
                .ToUnixTimeMilliseconds(),
        };
        corp.Users[user.UserId] = user;
        return user;
    }

    private readonly Dictionary<(string CorpId, int Kind), int> _eduSequence = new();

    private string NewEduUserId(SandboxCorp corp, int kind)
    {
        var key = (corp.CorpId, kind);
        _eduSequence[key] = _eduSequence.GetValueOrDefault(key) + 1;
        return $"{_corpIndex:D3}{kind}{_eduSequence[key]:D6}";
    }

    private string RandomString(string alphabet, int length)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = alphabet[_random.Next(alphabet.Length)];
        }

        return new string(chars);
    }
}
