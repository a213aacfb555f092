using EduDing.Api.Data;
using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Notices;
using EduDing.Api.Features.Vision;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddEduDingDefaults();
builder.Services.AddDatabase();
builder.Services.AddOrg();
builder.Services.AddIdentity();
builder.Services.AddNotices();
builder.Services.AddVision();

var app = builder.Build();
app.UseEduDingDefaults();
app.MapOrg();
app.MapIdentityEndpoints();
app.MapNotices();
app.MapVision();

return await app.RunEduDingAsync();
