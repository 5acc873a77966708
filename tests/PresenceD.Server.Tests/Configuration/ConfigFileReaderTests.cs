using PresenceD.Server.Configuration;

namespace PresenceD.Server.Tests.Configuration;

public sealed class ConfigFileReaderTests
{
    [Fact]
    public void Comments_blank_lines_quotes_and_trailing_comments()
    {
        const string text = "# whole-line comment\n\n  port 7401   # trailing\n" +
            "history_rooms \"chat:*, lobby\"  # quoted with a space\n" +
            "node_id \"\"\n" +
            "redis host:6379,password=a#b\n" +
            "jwt_secret_file \"/etc/presenced/secret # with hash\"\r\n" +
            "\t bind 0.0.0.0\t#tab comment\n";

        var entries = ConfigFileReader.Parse(text, "x.conf");

        Assert.Equal(
            [
                new("port", "7401", 3),
                new("history_rooms", "chat:*, lobby", 4),
                new("node_id", "", 5),
                new("redis", "host:6379,password=a#b", 6),
                new("jwt_secret_file", "/etc/presenced/secret # with hash", 7),
                new("bind", "0.0.0.0", 8),
            ],
            entries);
    }

    [Theory]
    [InlineData("port", "x.conf:2: key 'port' has no value")]
    [InlineData("port # c", "x.conf:2: key 'port' has no value")]
    [InlineData("node_id \"abc", "x.conf:2: unterminated quote")]
    [InlineData("node_id \"abc\" def", "x.conf:2: unexpected text after the quoted value")]
    public void Syntax_errors_name_the_line(string line, string expected)
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigFileReader.Parse("# first\n" + line, "x.conf"));
        Assert.StartsWith(expected, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "\"\"")]
    [InlineData("a b", "\"a b\"")]
    [InlineData("a#b", "\"a#b\"")]
    [InlineData("plain", "plain")]
    public void Quote_only_when_needed(string value, string expected) => Assert.Equal(expected, ConfigFileReader.Quote(value));
}
