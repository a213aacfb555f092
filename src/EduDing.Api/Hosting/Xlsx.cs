using MiniExcelLibs;

namespace EduDing.Api.Hosting;

/// <summary>Workbooks the service hands out: one sheet of rows, or several named sheets, as an xlsx download.</summary>
internal static class Xlsx
{
    public const string ContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

    /// <summary><paramref name="sheets"/> is a sheet's rows (with <paramref name="sheetName"/>) or a dictionary of sheet name → rows.</summary>
    public static async Task<Microsoft.AspNetCore.Http.HttpResults.FileContentHttpResult> FileAsync(object sheets, string fileName, string? sheetName,
        CancellationToken ct)
    {
        using var stream = new MemoryStream();
        if (sheetName is null)
        {
            await stream.SaveAsAsync(sheets, cancellationToken: ct);
        }
        else
        {
            await stream.SaveAsAsync(sheets, sheetName: sheetName, cancellationToken: ct);
        }

        return TypedResults.File(stream.ToArray(), ContentType, fileName);
    }
}
