using EduDing.Api.Data;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddEduDingDefaults();
builder.Services.AddDatabase();
builder.Services.AddOrg();

var app = builder.Build();
app.UseEduDingDefaults();
app.MapOrg();

return await app.RunEduDingAsync();
