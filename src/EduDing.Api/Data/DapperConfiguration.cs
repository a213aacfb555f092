using System.Data;
using System.Globalization;
using Dapper;

namespace EduDing.Api.Data;

/// <summary>Dapper settings shared by every repository: snake_case columns, UTC instants, dates without time.</summary>
internal static class DapperConfiguration
{
    private static int _configured;

    public static void EnsureConfigured()
    {
        if (Interlocked.Exchange(ref _configured, 1) == 1)
        {
            return;
        }

        DefaultTypeMap.MatchNamesWithUnderscores = true;

        // Dapper binds the types in its built-in map itself and only asks a handler for types missing from it, so
        // these are removed first; otherwise a Local DateTime would reach the database unconverted.
        SqlMapper.RemoveTypeMap(typeof(DateTime));
        SqlMapper.RemoveTypeMap(typeof(DateTime?));
        SqlMapper.RemoveTypeMap(typeof(decimal));
        SqlMapper.RemoveTypeMap(typeof(decimal?));
        SqlMapper.AddTypeHandler(new UtcDateTimeHandler());
        SqlMapper.AddTypeHandler(new DateOnlyHandler());
        SqlMapper.AddTypeHandler(new DecimalHandler());

        // SQLite returns every integer as Int64. Positional records are matched to columns by exact type unless a
        // handler exists, so int and bool get read-side handlers (parameters still bind natively).
        SqlMapper.AddTypeHandler(new Int32Handler());
        SqlMapper.AddTypeHandler(new BooleanHandler());
    }

    /// <summary>
    /// Stores every instant as UTC and stamps what it reads as UTC (SQLite keeps text; MySQL DATETIME has no zone).
    /// A Local value is converted, an Unspecified one is taken to be UTC already.
    /// </summary>
    private sealed class UtcDateTimeHandler : SqlMapper.TypeHandler<DateTime>
    {
        public override void SetValue(IDbDataParameter parameter, DateTime value)
        {
            parameter.DbType = DbType.DateTime;
            parameter.Value = value.Kind switch
            {
                DateTimeKind.Local => value.ToUniversalTime(),
                DateTimeKind.Unspecified => DateTime.SpecifyKind(value, DateTimeKind.Utc),
                _ => value,
            };
        }

        public override DateTime Parse(object value) => value switch
        {
            DateTime dt => DateTime.SpecifyKind(dt, DateTimeKind.Utc),
            string s => DateTime.Parse(s, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
            _ => throw new DataException($"Cannot read a {value.GetType().Name} as a UTC DateTime."),
        };
    }

    private sealed class DateOnlyHandler : SqlMapper.TypeHandler<DateOnly>
    {
        public override void SetValue(IDbDataParameter parameter, DateOnly value)
        {
            parameter.DbType = DbType.Date;
            parameter.Value = value;
        }

        public override DateOnly Parse(object value) => value switch
        {
            DateOnly d => d,
            DateTime dt => DateOnly.FromDateTime(dt),
            string s => DateOnly.Parse(s.Length > 10 ? s[..10] : s, CultureInfo.InvariantCulture),
            _ => throw new DataException($"Cannot read a {value.GetType().Name} as a DateOnly."),
        };
    }

    /// <summary>SQLite keeps decimals as TEXT (exact); reading must not depend on the current culture.</summary>
    private sealed class DecimalHandler : SqlMapper.TypeHandler<decimal>
    {
        public override void SetValue(IDbDataParameter parameter, decimal value)
        {
            parameter.DbType = DbType.Decimal;
            parameter.Value = value;
        }

        public override decimal Parse(object value) => value switch
        {
            decimal d => d,
            string s => decimal.Parse(s, NumberStyles.Number, CultureInfo.InvariantCulture),
            _ => Convert.ToDecimal(value, CultureInfo.InvariantCulture),
        };
    }

    private sealed class Int32Handler : SqlMapper.TypeHandler<int>
    {
        public override void SetValue(IDbDataParameter parameter, int value) => parameter.Value = value;

        public override int Parse(object value) => Convert.ToInt32(value, CultureInfo.InvariantCulture);
    }

    private sealed class BooleanHandler : SqlMapper.TypeHandler<bool>
    {
        public override void SetValue(IDbDataParameter parameter, bool value) => parameter.Value = value;

        public override bool Parse(object value) => Convert.ToBoolean(value, CultureInfo.InvariantCulture);
    }
}

internal static class DatabaseTime
{
    /// <summary>
    /// Now, at the precision MySQL's DATETIME(6) keeps (microseconds), so that a value written and read back compares
    /// equal to the one the code still holds.
    /// </summary>
    public static DateTime UtcNowForDatabase(this TimeProvider time)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - now.Ticks % 10, DateTimeKind.Utc);
    }
}
