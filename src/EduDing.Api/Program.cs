using EduDing.Api.Data;
using EduDing.Api.Features.AfterSchool;
using EduDing.Api.Features.Approvals;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Notices;
using EduDing.Api.Features.Org;
using EduDing.Api.Features.Roster;
using EduDing.Api.Features.Training;
using EduDing.Api.Features.Vision;
using EduDing.Api.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddEduDingDefaults();
builder.AddEduDingTelemetry();
builder.Services.AddDatabase();
builder.Services.AddDingTalk();
builder.Services.AddOrg();
builder.Services.AddIdentity();
builder.Services.AddApprovals();
builder.Services.AddNotices();
builder.Services.AddVision();
builder.Services.AddAfterSchool();
builder.Services.AddTraining();

var app = builder.Build();
app.UseEduDingDefaults();
app.MapEduDingTelemetry();
app.MapDingTalk();
app.MapOrg();
app.MapIdentityEndpoints();
app.MapRosterEndpoints();
app.MapApprovals();
app.MapNotices();
app.MapVision();
app.MapAfterSchool();
app.MapTraining();

return await app.RunEduDingAsync();
