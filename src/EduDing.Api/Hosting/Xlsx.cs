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
    /// The uploaded workbook of a multipart form's <c>file</c> field: 400 naming the field when it is missing, empty or
    /// larger than <paramref name="maxBytes"/>; 415 when it is not an xlsx (a zip package) — refused before parsing.
    /// </summary>
    public static async Task<(string FileName, byte[] Content)> ReadUploadAsync(HttpRequest http, long maxBytes, string tooLarge, CancellationToken ct)
    {
        IFormFile? file;
        try
        {
            file = http.HasFormContentType ? (await http.ReadFormAsync(ct)).Files.GetFile("file") : null;
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException && !ct.IsCancellationRequested)
        {
            // A multipart body that is empty or cut short.
            throw new RequestValidationException("file", $"the multipart form could not be read ({ex.Message})");
        }

        if (file is null || file.Length == 0)
        {
            throw new RequestValidationException("file", "an .xlsx file is required (multipart/form-data, field 'file')");
        }

        if (file.Length > maxBytes)
        {
            throw new RequestValidationException("file", tooLarge);
        }

        using var buffer = new MemoryStream();
        await file.CopyToAsync(buffer, ct);
        if (buffer.Length < 4 || !buffer.GetBuffer().AsSpan(0, 4).SequenceEqual("PK\u0003\u0004"u8))
        {
            throw new UnsupportedMediaTypeException("file", "is not an .xlsx workbook; save it as Excel Workbook (.xlsx)");
        }

        return (file.FileName, buffer.ToArray());
    }
}
