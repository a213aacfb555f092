using EduDing.Bench;

var which = args.Length > 0 ? args[0] : "all";
Console.WriteLine($"EduDing bench '{which}' on {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
switch (which)
{
    case "pacing":
        await DingTalkBenchmarks.PacingAsync();
        break;
    case "generate":
        DingTalkBenchmarks.Generate();
        break;
    case "stream":
        await DingTalkBenchmarks.StreamAsync();
        break;
    case "orgsync":
        await OrgSyncBenchmarks.HainingFullSyncAsync(args.Length > 1 ? args[1] : null);
        break;
    case "callback":
        await OrgSyncBenchmarks.CallbackLatencyAsync(args.Length > 1 ? args[1] : null);
        break;
    case "notices":
        await NoticeBenchmarks.FanOutAsync(args.Length > 1 ? args[1] : null);
        break;
    case "vision":
        await VisionBenchmarks.ImportAndStatisticsAsync(args.Length > 1 ? args[1] : null);
        break;
    case "vision-encryption":
        await VisionBenchmarks.EncryptionOverheadAsync(args.Length > 1 ? args[1] : null);
        break;
    case "approvals":
        await ApprovalBenchmarks.InboxAsync(args.Length > 1 ? args[1] : null);
        break;
    case "training":
        await TrainingBenchmarks.ProvincialImportAsync(args.Length > 1 ? args[1] : null);
        break;
    case "training-reports":
        await TrainingBenchmarks.ReportsAsync(args.Length > 1 ? args[1] : null);
        break;
    case "audit":
        await AuditBenchmarks.ChainAsync(args.Length > 1 ? args[1] : null);
        break;
    case "signup":
        await CareBenchmarks.SignupOpeningAsync(args.Length > 1 ? args[1] : null, args.Length > 2 ? int.Parse(args[2]) : 20_000);
        break;
    case "city":
        await CityBenchmarks.ScenarioAsync(args.Length > 1 ? args[1] : throw new ArgumentException("city needs a MySQL connection string"));
        break;
    case "all":
        DingTalkBenchmarks.Generate();
        await DingTalkBenchmarks.StreamAsync();
        await DingTalkBenchmarks.PacingAsync();
        break;
    default:
        Console.Error.WriteLine("usage: dotnet run -c Release --project bench/EduDing.Bench -- [pacing|generate|stream|orgsync [mysql-connection-string]|callback [mysql-connection-string]|notices [mysql-connection-string]|vision [mysql-connection-string]|vision-encryption [mysql-connection-string]|approvals [mysql-connection-string]|signup [mysql-connection-string [guardians]]|training [mysql-connection-string]|training-reports [mysql-connection-string]|audit [mysql-connection-string]|city mysql-connection-string|all]");
        return 2;
}

return 0;
