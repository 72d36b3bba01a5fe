using Vigil.Cluster.Placement;
using Vigil.Detectors;

namespace Vigil.Tests.Cluster;

public sealed class DetectorGroupsTests
{
    [Fact]
    public void Split_VideoAndAudioRoles_EachDetectorOnceVideoLeadsWithBitstream()
    {
        var (groups, uncovered) = DetectorGroups.Split(DetectorCatalog.All, ["video", "audio+av.sync"]);

        Assert.Empty(uncovered);
        Assert.Equal(["audio+av.sync", "video"], groups.Select(g => g.Role));
        var all = groups.SelectMany(g => g.Kinds).ToList();
        Assert.Equal(all.Count, all.Distinct().Count()); // no detector runs twice
        Assert.Equal(DetectorCatalog.Kinds.Order(), all.Order());
        var video = groups.Single(g => g.Role == "video");
        Assert.True(video.ReportsStall);
        Assert.Contains("stream.discontinuity", video.Kinds); // bitstream detectors go with the lead group
        Assert.False(groups.Single(g => g.Role == "audio+av.sync").ReportsStall);
        Assert.Contains("av.sync", groups.Single(g => g.Role == "audio+av.sync").Kinds);
    }

    [Fact]
    public void Split_NoRoleForAudio_AudioKindsUncovered()
    {
        var selected = DetectorCatalog.Select("video.black,audio.silence");

        var (groups, uncovered) = DetectorGroups.Split(selected, ["video"]);

        Assert.Equal(["audio.silence"], uncovered);
        Assert.Equal(["video.black"], groups.Single().Kinds);
    }

    [Fact]
    public void Split_OverlappingRoles_DetectorGoesToFirstRoleOnly()
    {
        var (groups, _) = DetectorGroups.Split(DetectorCatalog.Select("video.black,video.freeze"), ["video", "video.black"]);

        Assert.Equal(["video.black", "video.freeze"], groups.Single(g => g.Role == "video").Kinds);
        Assert.DoesNotContain(groups, g => g.Role == "video.black");
    }

    [Fact]
    public void Split_AudioOnlySelection_AudioGroupLeads()
    {
        var (groups, _) = DetectorGroups.Split(DetectorCatalog.Select("audio.silence"), ["video", "audio+av.sync"]);

        var group = Assert.Single(groups);
        Assert.Equal("audio+av.sync", group.Role);
        Assert.True(group.ReportsStall);
    }

    [Theory]
    [InlineData("audio, av.sync", "audio+av.sync")]
    [InlineData("Video", "video")]
    [InlineData("", "all")]
    public void Canonical_WrittenRoles_OneForm(string written, string canonical) => Assert.Equal(canonical, DetectorGroups.Canonical(written));

    [Fact]
    public void Canonical_UnknownDetector_Throws() => Assert.Throws<ArgumentException>(() => DetectorGroups.Canonical("video,teleport"));
}
