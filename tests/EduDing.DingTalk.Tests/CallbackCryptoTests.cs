using EduDing.DingTalk.Callbacks;

namespace EduDing.DingTalk.Tests;

/// <summary>Contract §7f: vector A from DingTalk's docs, vector C from the official C# library.</summary>
public sealed class CallbackCryptoTests
{
    private static readonly DingTalkCallbackCrypto VectorA =
        new("123456", "1234567890123456789012345678901234567890123", "dingsnotzck6pm5veliw");

    private const string EncryptA = "YvkvaGe4hQxd3VxRmEty0dVlnCOAqwf56xwTRHDHoOURqhalbmBJQk5FNcRk42Gl5T0YQXZNwpwWSm1xAFJ5ZA==";

    private static readonly DingTalkCallbackCrypto VectorC =
        new("tokenxxxx", "o1w0aum42yaptlz8alnhwikjd3jenzt9cb9wmzptgus", "dingxxxxxx");

    private const string EncryptC = "X1VSe9cTJUMZu60d3kyLYTrBq5578ZRJtteU94wG0Q4Uk6E/wQYeJRIC0/UFW5Wkya1Ihz9oXAdLlyC9TRaqsQ==";

    [Fact]
    public void VectorA_SignatureMatchesAndDecryptsToSuccess()
    {
        Assert.Equal("9a95a004dd16f5c307e849b994173f76aa26e5eb", VectorA.Sign("1614767836", "A7Co0cJLMzIDtMMI", EncryptA));
        Assert.Equal("success",
            VectorA.Decrypt("9a95a004dd16f5c307e849b994173f76aa26e5eb", "1614767836", "A7Co0cJLMzIDtMMI", EncryptA));
    }

    [Fact]
    public void VectorA_EncryptWithItsRandomPrefix_ReproducesTheCiphertextByteForByte()
    {
        Assert.Equal(EncryptA, VectorA.Encrypt("success", "dICkEDLj0eb6yAbc"));
    }

    [Fact]
    public void VectorA_SuccessReply_IsTheDocumentedReply()
    {
        var reply = VectorA.CreateSuccessReply("1614767836", "A7Co0cJLMzIDtMMI", "dICkEDLj0eb6yAbc");

        Assert.Equal(new EncryptedReply("9a95a004dd16f5c307e849b994173f76aa26e5eb", "1614767836", "A7Co0cJLMzIDtMMI", EncryptA),
            reply);
    }

    [Fact]
    public void VectorC_SignatureMatchesDecryptsAndReEncryptsExactly()
    {
        Assert.Equal("success",
            VectorC.Decrypt("f36f4ba5337d426c7d4bca0dbcb06b3ddc1388fc", "1605695694141", "WelUQl6bCqcBa2fM", EncryptC));
        Assert.Equal(EncryptC, VectorC.Encrypt("success", "WelUQl6bCqcBa2fM"));
    }

    [Fact]
    public void Decrypt_TamperedSignature_IsRejected()
    {
        var error = Assert.Throws<DingTalkCallbackException>(() =>
            VectorA.Decrypt("9a95a004dd16f5c307e849b994173f76aa26e5ec", "1614767836", "A7Co0cJLMzIDtMMI", EncryptA));

        Assert.Equal("900005", error.Code);
    }

    [Fact]
    public void Decrypt_TamperedTimestamp_IsRejected()
    {
        Assert.Throws<DingTalkCallbackException>(() =>
            VectorA.Decrypt("9a95a004dd16f5c307e849b994173f76aa26e5eb", "1614767837", "A7Co0cJLMzIDtMMI", EncryptA));
    }

    [Fact]
    public void Decrypt_WrongOwnerKey_IsRejected()
    {
        var otherApp = new DingTalkCallbackCrypto("123456", "1234567890123456789012345678901234567890123", "dingsomeoneelse");

        var error = Assert.Throws<DingTalkCallbackException>(() =>
            otherApp.Decrypt("9a95a004dd16f5c307e849b994173f76aa26e5eb", "1614767836", "A7Co0cJLMzIDtMMI", EncryptA));

        Assert.Equal("900010", error.Code);
    }

    [Fact]
    public void Decrypt_BadPadding_IsRejected()
    {
        // A ciphertext whose last plaintext byte is 0 (a valid AES block, but pad 0 is out of 1..32).
        var crypto = VectorA;
        var bytes = Convert.FromBase64String(crypto.Encrypt("x"));
        bytes[^17] ^= 0x5A; // corrupt the previous block: CBC flips the same bit of the last plaintext block
        var tampered = Convert.ToBase64String(bytes);

        var error = Assert.Throws<DingTalkCallbackException>(() =>
            crypto.Decrypt(crypto.Sign("1", "n", tampered), "1", "n", tampered));

        Assert.Equal("900008", error.Code);
    }

    [Fact]
    public void Decrypt_NotWholeBlocks_IsRejected()
    {
        var notBlocks = Convert.ToBase64String(new byte[20]);

        Assert.Throws<DingTalkCallbackException>(() => VectorA.Decrypt(VectorA.Sign("1", "n", notBlocks), "1", "n", notBlocks));
    }

    [Theory]
    [InlineData("{\"EventType\":\"check_url\"}")]
    [InlineData("{\"EventType\":\"user_add_org\",\"userId\":[\"王小明\"],\"CorpId\":\"ding123\"}")]
    [InlineData("")]
    public void EncryptThenDecrypt_RoundTripsAnyMessage(string message)
    {
        var encrypt = VectorC.Encrypt(message);

        Assert.Equal(message, VectorC.Decrypt(VectorC.Sign("1700000000000", "abcd1234", encrypt), "1700000000000", "abcd1234", encrypt));
    }

    [Theory]
    [InlineData("short")]
    [InlineData("123456789012345678901234567890123456789012!")]
    public void Constructor_BadAesKey_Is900004(string aesKey)
    {
        Assert.Equal("900004", Assert.Throws<DingTalkCallbackException>(() => new DingTalkCallbackCrypto("t", aesKey, "o")).Code);
    }
}
