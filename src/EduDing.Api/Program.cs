using EduDing.Api.Data;
using EduDing.Api.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddEduDingDefaults();
builder.Services.AddDatabase();

var app = builder.Build();
app.UseEduDingDefaults();

return await app.RunEduDingAsync();
