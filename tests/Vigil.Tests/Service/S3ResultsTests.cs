using System.Text.Json.Nodes;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Vigil.Tests.Service.Support;

namespace Vigil.Tests.Service;

/// <summary>Per-segment results written to an S3-compatible store (s3rver on 127.0.0.1) and read back with the S3 API.</summary>
[Collection(LiveServiceCollection.Name)]
public sealed class S3ResultsTests
{
    [Fact]
    public async Task Results_S3Configured_SegmentObjectsReadableFromS3rver()
    {
        await using var s3 = await S3rver.StartAsync();
        var port = Net.FreeUdpPort();
        await using var source = FfmpegLive.Udp(port, new FfmpegLive.Pattern(Period: 3, Black: (1, 2)));
        await using var service = await ServiceUnderTest.StartAsync(settings: new Dictionary<string, string?>
        {
            ["SegmentSeconds"] = "2",
            ["Storage:Prefix"] = "vigil/",
            ["Storage:S3:Bucket"] = "vigil-results",
            ["Storage:S3:ServiceUrl"] = s3.Url,
            ["Storage:S3:AccessKey"] = S3rver.AccessKey,
            ["Storage:S3:SecretKey"] = S3rver.SecretKey,
        });
        var id = await service.AddStreamAsync(new
        {
            url = $"udp://127.0.0.1:{port}",
            detectors = new[] { "video.black" },
            thresholds = new Dictionary<string, object> { ["video.black.min_duration"] = 0.5 },
        });

        using var client = new AmazonS3Client(new BasicAWSCredentials(S3rver.AccessKey, S3rver.SecretKey),
            new AmazonS3Config { ServiceURL = s3.Url, ForcePathStyle = true, AuthenticationRegion = "us-east-1" });
        var segments = new List<JsonNode>();
        await Net.WaitUntilAsync(async () =>
        {
            segments.Clear();
            ListObjectsV2Response listing;
            try
            {
                listing = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "vigil-results", Prefix = $"vigil/{id}/" });
            }
            catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchBucket")
            {
                return false; // the service creates its bucket in the background
            }
            foreach (var o in listing.S3Objects ?? [])
            {
                using var get = await client.GetObjectAsync("vigil-results", o.Key);
                using var reader = new StreamReader(get.ResponseStream);
                segments.Add(JsonNode.Parse(await reader.ReadToEndAsync())!);
            }
            return segments.Any(s => s["events"]!.AsArray().Any(e => e!["kind"]!.GetValue<string>() == "video.black"));
        }, 40, "a segment with a video.black event in the bucket");

        Assert.All(segments, s =>
        {
            Assert.Equal(id, s["stream_id"]!.GetValue<string>());
            Assert.True(DateTimeOffset.Parse(s["segment_end"]!.GetValue<string>()) > DateTimeOffset.Parse(s["segment_start"]!.GetValue<string>()));
        });
        Assert.Contains(segments, s => s["frames_analysed"]!.GetValue<long>() > 0);
        var stored = (await service.EventsAsync()).Select(e => e.Id()).ToHashSet();
        Assert.All(segments.SelectMany(s => s["events"]!.AsArray()), e => Assert.Contains(e!["id"]!.GetValue<long>(), stored));
    }
}
