namespace EduDing.DingTalk.Sandbox.Generation;

/// <summary>Realistic Chinese names drawn from common surnames and given-name characters.</summary>
internal static class ChineseNames
{
    private const string Surnames =
        "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤";

    private const string GivenCharacters =
        "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国俊浩宇轩子涵欣怡梓萱雨晨思远佳琪一诺嘉怡博文浩然若曦语桐";

    public static string Person(Random random)
    {
        var surname = Surnames[random.Next(Surnames.Length)];
        var given = random.Next(3) == 0
            ? GivenCharacters[random.Next(GivenCharacters.Length)].ToString()
            : $"{GivenCharacters[random.Next(GivenCharacters.Length)]}{GivenCharacters[random.Next(GivenCharacters.Length)]}";
        return surname + given;
    }

    /// <summary>A child's name with the given surname (children mostly carry a parent's surname).</summary>
    public static string Child(Random random, char surname) =>
        surname + $"{GivenCharacters[random.Next(GivenCharacters.Length)]}{GivenCharacters[random.Next(GivenCharacters.Length)]}";

    private static readonly string[] Towns =
        ["硖石", "海洲", "海昌", "马桥", "许村", "长安", "周王庙", "盐官", "斜桥", "丁桥", "袁花", "黄湾", "尖山"];

    private static readonly string[] SchoolSuffixes = ["实验", "中心", "第一", "第二", "文苑", "紫薇", "南苑", "城北"];

    public static string School(Random random, int index, bool primary) =>
        $"海宁市{Towns[index % Towns.Length]}{SchoolSuffixes[index / Towns.Length % SchoolSuffixes.Length]}{(primary ? "小学" : "初级中学")}" +
        (index >= Towns.Length * SchoolSuffixes.Length ? $"{index / (Towns.Length * SchoolSuffixes.Length) + 1}校区" : "");
}
