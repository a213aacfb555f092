using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.AfterSchool;
using EduDing.Api.Features.Org;
using EduDing.Api.Features.Privacy;
using EduDing.Api.Features.Vision;
using EduDing.Api.Hosting;
using EduDing.Api.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Tests.Features.Privacy;

/// <summary>
/// Encryption at rest on each database (docs/encryption.md): the raw tables hold no plaintext of the sealed fields while
/// the service reads them back; rows from before encryption are sealed by a step that resumes where it stopped; a key
/// rotation re-encrypts every row while two instances serve reads and writes, and nothing is lost.
/// </summary>
public abstract class EncryptionTestsBase<TDb>(TDb db) where TDb : TestDb
{
    private protected TDb Db { get; } = db;

    private static readonly VisionClassifier Classifier = new(new VisionOptions());

    private protected static FieldKeys Keys(string active, params string[] ids) => FieldKeys.From(ids.ToDictionary(id => id, id => id switch
    {
        "test1" => TestTokens.MasterKeyBase64,
        _ => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"eduding-tests-master-key-{id}".PadRight(32, '!')[..32])),
    }), active, true);

    private protected FieldReencryption Reencryption(Database database, int batch = 50) => new(database, new LeaseRepository(database, Db.Time),
        new ServiceInstance(), Options.Create(new EncryptionOptions { ReencryptionBatch = batch }), Db.Time, NullLogger<FieldReencryption>.Instance);

    private protected static VisionRecordInput Input(string student, decimal ucva, decimal sphere, string? reason = null) => new(student, "male",
        new DateOnly(2017, 3, 1), new DateOnly(2026, 8, 20), GlassesType.None, ucva, 5.0m, null, null, null, null, sphere, -0.5m, 180, 0.25m, 0m, 90,
        23.71m, null, reason);

    private protected static ClassifiedInput Classified(VisionRecordInput input, long classId) => new(input, classId, Classifier.Classify(input.AgeYears,
        input.Glasses, new EyeMeasurement(input.UcvaRight, input.SphereRight, input.CylinderRight),
        new EyeMeasurement(input.UcvaLeft, input.SphereLeft, input.CylinderLeft), false, input.NotTestableReason is not null));

    private protected Task SaveAsync(Database database, long round, string corp, IEnumerable<ClassifiedInput> rows) =>
        new VisionRepository(database).SaveRecordsAsync(round, corp, rows.ToList(), "app", corp, "teacher", Db.Time.GetUtcNow().UtcDateTime, default);

    private protected async Task<List<IDictionary<string, object?>>> RawAsync(string sql, object? args = null)
    {
        await using var connection = await Db.Database.OpenConnectionAsync(default);
        return (await connection.QueryAsync(sql, args)).Cast<IDictionary<string, object?>>().ToList();
    }

    private protected static void AssertNoPlaintext(IEnumerable<IDictionary<string, object?>> rows, params string[] secrets)
    {
        foreach (var row in rows)
        {
            foreach (var (column, value) in row)
            {
                var text = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "";
                Assert.All(secrets, secret => Assert.False(text.Contains(secret, StringComparison.Ordinal), $"{column} holds '{secret}' in the clear"));
            }
        }
    }

    private protected Task<SaveOutcome> SaveAsync2(VisionRepository vision, string corp, VisionRecordInput input) =>
        vision.SaveRecordsAsync(9301, corp, [Classified(input, 31)], "app", corp, "teacher", Db.Time.GetUtcNow().UtcDateTime, default);
}

/// <summary>Sealed fields on each database: no plaintext in the raw tables, read back whole; rows from before sealed by a resumable step.</summary>
public abstract class EncryptionTests<TDb>(TDb db) : EncryptionTestsBase<TDb>(db) where TDb : TestDb
{
    [Fact]
    public async Task SealedFields_HoldNoPlaintext_InTheRawTables_AndReadBackWhole()
    {
        Db.SkipUnlessAvailable();
        const string corp = "corp-enc-raw";
        var vision = new VisionRepository(Db.Database);
        await SaveAsync(Db.Database, 9301, corp, [Classified(Input("enc-kid-1", 4.3m, -2.75m, "右眼角膜瘢痕"), 31), Classified(Input("enc-kid-2", 4.9m, -1.25m), 31)]);

        var raw = await RawAsync("SELECT * FROM vision_records WHERE corp_id = @corp", new { corp });
        Assert.Equal(2, raw.Count);
        Assert.All(raw, r => Assert.StartsWith("ed1.test1.", (string)r["eyes_sealed"]!));
        Assert.All(raw, r => Assert.All(new[] { "ucva_r", "sphere_r", "cylinder_r", "axis_r", "axial_length_r", "se_r", "not_testable_reason" },
            c => Assert.True(r[c] is null or DBNull, $"{c} is stored in the clear")));
        AssertNoPlaintext(raw, "角膜瘢痕", "-2.75", "23.71");
        // The hash that recognises an unchanged re-import is keyed: not the plain SHA-256 of the values.
        Assert.DoesNotContain(raw, r => (string)r["input_hash"]! == Input("enc-kid-1", 4.3m, -2.75m, "右眼角膜瘢痕").Hash());

        var record = (await vision.FindRecordAsync(9301, corp, "enc-kid-1", default))!;
        Assert.Equal((4.3m, -2.75m, 23.71m, "右眼角膜瘢痕", -3.0m), (record.UcvaR, record.SphereR, record.AxialLengthR, record.NotTestableReason, record.SeR));
        Assert.Equal(1, (await SaveAsync2(vision, corp, Input("enc-kid-1", 4.3m, -2.75m, "右眼角膜瘢痕"))).Unchanged);

        // A guardian's visit report: hospital, diagnosis and prescription sealed, read back whole.
        var referral = Assert.Single(await vision.ReferralsOfStudentAsync(corp, "enc-kid-1", default));
        Assert.True(await vision.ReportVisitAsync(referral.Id, "guardian", new DateOnly(2026, 8, 28), "海宁市人民医院眼科", "屈光不正（近视）",
            "框架眼镜 -2.75D", Db.Time.GetUtcNow().UtcDateTime, default));
        AssertNoPlaintext(await RawAsync("SELECT * FROM vision_referrals WHERE id = @Id", referral), "海宁市人民医院", "屈光不正", "-2.75D");
        var visited = (await vision.FindReferralAsync(referral.Id, default))!;
        Assert.Equal(("海宁市人民医院眼科", "屈光不正（近视）", "框架眼镜 -2.75D"), (visited.Hospital, visited.Diagnosis, visited.Prescription));

        // A one-day delegate's phone.
        var daily = new CareDailyRepository(Db.Database);
        await daily.SetDelegateAsync(new CareDelegate(930101, new DateOnly(2026, 9, 3), "王阿姨", "邻居", "13957300001"), "guardian",
            Db.Time.GetUtcNow().UtcDateTime, default);
        AssertNoPlaintext(await RawAsync("SELECT * FROM care_delegates WHERE application_id = 930101"), "13957300001");
        Assert.Equal("13957300001", (await daily.DelegatesAsync([930101], new DateOnly(2026, 9, 3), default))[930101].Phone);

        // A student's 学号 in the mirror.
        var org = new OrgRepository(Db.Database);
        await org.UpsertEduNodeAsync(corp, new EduNodeRow(31, "三年级(1)班", null, null, "class", 3, "2023"), Db.Time.GetUtcNow().UtcDateTime, default);
        await org.ApplyClassRosterAsync(corp, 31, new ClassRoster([new RosterPerson("enc-kid-1", "李小明", "u-enc-1", "2023000931")], [], [], []),
            Db.Time.GetUtcNow().UtcDateTime, default);
        AssertNoPlaintext(await RawAsync("SELECT * FROM students WHERE corp_id = @corp", new { corp }), "2023000931");
        Assert.Equal("2023000931", Assert.Single(await org.ListStudentsAsync(corp, includeRemoved: false, default)).StudentNumber);

        // The guardian's copy has the values, not the ciphertext.
        var copy = await new ChildDataExport(Db.Database, Db.Time).ReadAsync(corp, "enc-kid-1", default);
        var row = Assert.Single(copy.Sections["vision_records"]);
        Assert.Equal(4.3m, Convert.ToDecimal(row["ucva_r"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.False(row.ContainsKey("eyes_sealed"));
        Assert.Equal("屈光不正（近视）", Assert.Single(copy.Sections["vision_referrals"])["diagnosis"]);
        Assert.Equal("2023000931", Assert.Single(copy.Sections["students"])["student_number"]);
        Assert.DoesNotContain(copy.Sections.Values.SelectMany(s => s).SelectMany(r => r.Values), v => v is string s && s.StartsWith("ed1.", StringComparison.Ordinal));
    }


    [Fact]
    public async Task RowsFromBeforeEncryption_AreSealedByAStepThatResumes_NoneLost()
    {
        Db.SkipUnlessAvailable();
        const string corp = "corp-enc-legacy";
        var inputs = Enumerable.Range(1, 23).Select(i => Input($"legacy-{i:00}", 4.0m + (i % 10) / 10m, -0.25m * i)).ToList();
        foreach (var input in inputs)
        {
            // As the service stored a record before migration 0024: the values in their own columns, the plain hash.
            var result = Classified(input, 41).Result;
            await Db.ExecuteAsync($"""
                INSERT INTO vision_records ({VisionRepository.RecordColumns})
                VALUES (9401, @corp, @StudentUserId, 41, 'male', @BirthDate, @ScreenedOn, 9, 'none', @UcvaRight, @UcvaLeft, NULL, NULL, NULL, NULL,
                        @SphereRight, @CylinderRight, @AxisRight, @SphereLeft, @CylinderLeft, @AxisLeft, @AxialLengthRight, NULL, NULL, @seR, @seL,
                        NULL, @myopic, NULL, 1, 0, 0, 0, 'test', @hash, 1, 'app', @corp, 'teacher', @at, NULL)
                """, new
            {
                corp, input.StudentUserId, input.BirthDate, input.ScreenedOn, input.UcvaRight, input.UcvaLeft, input.SphereRight, input.CylinderRight,
                input.AxisRight, input.SphereLeft, input.CylinderLeft, input.AxisLeft, input.AxialLengthRight, seR = result.Right.SphericalEquivalent,
                seL = result.Left.SphericalEquivalent, myopic = result.Myopic, hash = input.Hash(), at = Db.Time.GetUtcNow().UtcDateTime,
            });
        }

        await Db.ExecuteAsync("""
            INSERT INTO care_delegates (application_id, day, name, relation, phone, set_by_user_id, set_at)
            VALUES (940101, @day, '李叔叔', '舅舅', '13957300002', 'guardian', @at)
            """, new { day = new DateOnly(2026, 9, 4), at = Db.Time.GetUtcNow().UtcDateTime });
        var vision = new VisionRepository(Db.Database);
        Assert.Equal(-0.25m, (await vision.FindRecordAsync(9401, corp, "legacy-01", default))!.SphereR);

        // One instance stops after one batch of ten; another picks the pass up where it stopped.
        var first = await Reencryption(Db.Database, batch: 10).RunAsync(default, maxBatches: 1);
        Assert.InRange(first.GetValueOrDefault("vision_records"), 1, 10);
        Assert.NotNull(await Db.QuerySingleAsync<string?>("SELECT cursor_key FROM reencryption_progress WHERE table_name = 'vision_records'"));
        var second = await Reencryption(Db.CreateDatabase(Db.ConnectionString), batch: 10).RunAsync(default);

        var raw = await RawAsync("SELECT * FROM vision_records WHERE corp_id = @corp", new { corp });
        Assert.Equal(23, raw.Count);
        Assert.All(raw, r => Assert.StartsWith("ed1.test1.", (string)r["eyes_sealed"]!));
        Assert.All(raw, r => Assert.True(r["sphere_r"] is null or DBNull));
        AssertNoPlaintext(await RawAsync("SELECT * FROM care_delegates WHERE application_id = 940101"), "13957300002");
        Assert.Equal(23, (await vision.ClassRecordsAsync(9401, corp, 41, default)).Count);
        Assert.Equal(inputs.Select(i => (i.StudentUserId, i.UcvaRight, i.SphereRight, i.AxialLengthRight)),
            (await vision.ClassRecordsAsync(9401, corp, 41, default)).Select(r => (r.StudentUserId, r.UcvaR, r.SphereR, r.AxialLengthR)));
        Assert.Equal(23, first["vision_records"] + second.GetValueOrDefault("vision_records"));
        // The plain hashes became keyed ones: re-importing the same values changes nothing.
        var again = await vision.SaveRecordsAsync(9401, corp, inputs.Select(i => Classified(i, 41)).ToList(), "app", corp, "teacher",
            Db.Time.GetUtcNow().UtcDateTime, default);
        Assert.Equal((0, 0, 23), (again.Created, again.Updated, again.Unchanged));
        var status = await Reencryption(Db.Database).StatusAsync(default);
        Assert.All(status.Columns, c => Assert.Equal(0, c.InTheClear + c.UnderOtherKeys));
    }
}

/// <summary>A key rotation on each database, on a database of its own (it re-wraps the data keys every other test reads with).</summary>
public abstract class KeyRotationTests<TDb>(TDb db) : EncryptionTestsBase<TDb>(db) where TDb : TestDb
{
    [Fact]
    public async Task ARotation_ReencryptsEveryRow_WhileTwoInstancesServeReadsAndWrites()
    {
        Db.SkipUnlessAvailable();
        const string corp = "corp-enc-rotate";
        var students = Enumerable.Range(1, 240).Select(i => $"rot-{i:000}").ToList();
        var expected = students.ToDictionary(s => s, s => 4.0m + (s.GetHashCode() & 7) / 10m);
        foreach (var chunk in students.Chunk(60))
        {
            await SaveAsync(Db.Database, 9501, corp, chunk.Select(s => Classified(Input(s, expected[s], -1.0m), 51)));
        }

        // Every instance is given the new key first, then made to write under it; one instance is still on the old active key.
        var newer = Db.CreateDatabase(Db.ConnectionString, Keys("test2", "test1", "test2"));
        var older = Db.CreateDatabase(Db.ConnectionString, Keys("test1", "test1", "test2"));
        // As each instance does at startup.
        await newer.Fields.EnsureKeysAsync(default);
        await older.Fields.EnsureKeysAsync(default);
        var reading = new VisionRepository(newer);
        using var stop = new CancellationTokenSource();
        var writes = 0;
        var reads = 0;

        async Task WriteAsync(Database instance, int offset)
        {
            var repository = new VisionRepository(instance);
            for (var i = offset; !stop.IsCancellationRequested; i += 2)
            {
                var student = students[i % students.Count];
                var value = 4.0m + (i % 9) / 10m;
                lock (expected)
                {
                    expected[student] = value;
                }

                await repository.SaveRecordsAsync(9501, corp, [Classified(Input(student, value, -1.0m), 51)], "app", corp, "teacher",
                    Db.Time.GetUtcNow().UtcDateTime, default);
                Interlocked.Increment(ref writes);
                // A teacher's pace, not a tight loop: SQLite's busy handler is not fair, and a writer that never pauses can starve the pass.
                await Task.Delay(5);
            }
        }

        async Task ReadAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                Assert.Equal(students.Count, (await reading.ClassRecordsAsync(9501, corp, 51, default)).Count(r => r.UcvaR is not null));
                Interlocked.Increment(ref reads);
                await Task.Delay(5);
            }
        }

        // On their own threads: SQLite's async calls complete synchronously, so a loop of them would never hand the thread back.
        var load = new[] { Task.Run(() => WriteAsync(newer, 0)), Task.Run(() => WriteAsync(older, 1)), Task.Run(ReadAsync) };
        // The passes start once the service is writing and reading: on a busy machine the load's threads can start after
        // a pass has already finished.
        while ((Volatile.Read(ref writes) == 0 || Volatile.Read(ref reads) == 0) && !load.Any(t => t.IsCompleted))
        {
            await Task.Delay(5);
        }

        var passes = await Task.WhenAll(Reencryption(newer, batch: 25).RunAsync(default),
            Reencryption(Db.CreateDatabase(Db.ConnectionString, Keys("test2", "test1", "test2")), batch: 25).RunAsync(default));
        await stop.CancelAsync();
        await Task.WhenAll(load);
        Assert.True(writes > 0 && reads > 0);
        Assert.True(passes.Sum(p => p.GetValueOrDefault("vision_records")) > 0);
        // The two instances shared the tables: none was passed over twice at once.
        Assert.All(FieldReencryption.Tables, t => Assert.True(passes.Count(p => p.ContainsKey(t.Name)) >= 1));

        // What the instance on the old key wrote behind the pass is taken by the next one.
        await Reencryption(newer).RunAsync(default);
        var raw = await RawAsync("SELECT student_user_id, eyes_sealed FROM vision_records WHERE corp_id = @corp", new { corp });
        Assert.Equal(students.Count, raw.Count);
        Assert.All(raw, r => Assert.StartsWith("ed1.test2.", (string)r["eyes_sealed"]!));
        var history = await RawAsync("SELECT eyes_sealed FROM vision_record_history WHERE corp_id = @corp", new { corp });
        Assert.All(history, r => Assert.StartsWith("ed1.test2.", (string)r["eyes_sealed"]!));

        // The old master key can go: the data keys were re-wrapped, so an instance with the new key alone reads everything
        // and its keyed hashes are the same (an unchanged re-import stays unchanged).
        var rotated = new VisionRepository(Db.CreateDatabase(Db.ConnectionString, Keys("test2", "test2")));
        var records = await rotated.ClassRecordsAsync(9501, corp, 51, default);
        Assert.Equal(expected.OrderBy(e => e.Key), records.Select(r => new KeyValuePair<string, decimal>(r.StudentUserId, r.UcvaR!.Value)));
        var same = await rotated.SaveRecordsAsync(9501, corp, [Classified(Input(students[0], expected[students[0]], -1.0m), 51)], "app", corp,
            "teacher", Db.Time.GetUtcNow().UtcDateTime, default);
        Assert.Equal(1, same.Unchanged);
        Assert.Equal(0, (await Reencryption(newer).StatusAsync(default)).Columns.Sum(c => c.InTheClear + c.UnderOtherKeys));
    }
}

public sealed class SqliteEncryptionTests(SqliteTestDb db) : EncryptionTests<SqliteTestDb>(db), IClassFixture<SqliteTestDb>;

public sealed class MySqlEncryptionTests(MySqlTestDb db) : EncryptionTests<MySqlTestDb>(db), IClassFixture<MySqlTestDb>;

public sealed class SqliteKeyRotationTests(SqliteTestDb db) : KeyRotationTests<SqliteTestDb>(db), IClassFixture<SqliteTestDb>;

public sealed class MySqlKeyRotationTests(MySqlTestDb db) : KeyRotationTests<MySqlTestDb>(db), IClassFixture<MySqlTestDb>;
