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

    /// <summary>
    /// The uploaded workbook of a multipart form's <c>file</c> field (<see cref="Uploads.ReadFileAsync"/>); 415 when it is
    /// not an xlsx (a zip package) — refused before parsing.
    /// </summary>
    public static async Task<(string FileName, byte[] Content)> ReadUploadAsync(HttpRequest http, long maxBytes, string tooLarge, CancellationToken ct)
    {
        var (fileName, content) = await Uploads.ReadFileAsync(http, maxBytes, tooLarge, ct);
        return content.AsSpan().StartsWith("PK\u0003\u0004"u8)
            ? (fileName, content)
            : throw new UnsupportedMediaTypeException("file", "is not an .xlsx workbook; save it as Excel Workbook (.xlsx)");
    }
}
