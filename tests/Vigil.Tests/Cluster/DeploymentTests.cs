using System.Diagnostics;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using Vigil.Cluster;
using Vigil.Cluster.Placement;
using Vigil.Detectors;
using Vigil.Service;

namespace Vigil.Tests.Cluster;

/// <summary>
/// The container image and the Kubernetes manifests, checked with what runs here (no Docker engine, no
/// cluster): manifests parsed strictly into the Kubernetes API's own models and checked against each other
/// and against Vigil's options; the Dockerfile's shim stage run as it is (this machine is the Debian it
/// names) and its run stage checked to carry every library the shim links.
/// </summary>
public sealed partial class DeploymentTests
{
    private static readonly string Root = FindRoot();
    private static readonly string Manifests = Path.Combine(Root, "deploy", "kubernetes");

    [Fact]
    public void Manifests_ParseStrictlyAsKubernetesObjects()
    {
        var objects = Load();
        Assert.Contains(objects, o => o is V1Deployment);
        Assert.Contains(objects, o => o is V1PodDisruptionBudget);
        Assert.Contains(objects, o => o is V1Secret);
        Assert.All(objects, o => Assert.False(string.IsNullOrEmpty(((IKubernetesObject<V1ObjectMeta>)o).Metadata?.Name)));
    }

    [Fact]
    public void Deployments_OnePerDetectorSubset_CoverEveryDetectorOnce()
    {
        var deployments = Load().OfType<V1Deployment>().ToList();
        var roles = deployments.Select(d => DetectorGroups.Canonical(Env(d, "VIGIL_CLUSTER__ROLE").Value)).ToList();
        Assert.Equal(roles.Count, roles.Distinct().Count());
        var (groups, uncovered) = DetectorGroups.Split(DetectorCatalog.All, roles);
        Assert.Empty(uncovered);
        Assert.Equal(roles.Order(), groups.Select(g => g.Role).Order()); // every subset runs something
    }

    [Fact]
    public void Deployments_ConsistentWithVigilAndWithEachOther()
    {
        var objects = Load();
        var secrets = objects.OfType<V1Secret>().ToDictionary(s => s.Metadata.Name);
        var accounts = objects.OfType<V1ServiceAccount>().Select(a => a.Metadata.Name).ToHashSet();
        var binding = objects.OfType<V1RoleBinding>().Single();
        var role = objects.OfType<V1Role>().Single(r => r.Metadata.Name == binding.RoleRef.Name);
        Assert.Contains(role.Rules, r => r.Resources.Contains("pods") && r.Verbs.Contains("list") && r.Verbs.Contains("watch"));
        foreach (var d in objects.OfType<V1Deployment>())
        {
            var pod = d.Spec.Template;
            Assert.True(d.Spec.Selector.MatchLabels.All(l => pod.Metadata.Labels[l.Key] == l.Value), $"{d.Metadata.Name}: selector does not match its pods");
            Assert.Contains(pod.Spec.ServiceAccountName, accounts);
            Assert.Contains(binding.Subjects, s => s.Name == pod.Spec.ServiceAccountName);
            var container = Assert.Single(pod.Spec.Containers);
            var ports = container.Ports.ToDictionary(p => p.Name, p => p.ContainerPort);

            // every VIGIL_ variable names a real option (ServiceOptions, or FleetOptions under CLUSTER__)
            foreach (var env in container.Env.Where(e => e.Name.StartsWith("VIGIL_", StringComparison.Ordinal)))
                Assert.True(IsOption(env.Name), $"{d.Metadata.Name}: {env.Name} binds to no option");
            // credentials come from Secrets that exist and have the key
            foreach (var env in container.Env.Where(e => e.ValueFrom?.SecretKeyRef is not null))
            {
                var reference = env.ValueFrom.SecretKeyRef;
                Assert.True(secrets.TryGetValue(reference.Name, out var secret), $"{env.Name}: no Secret {reference.Name}");
                Assert.Contains(reference.Key, secret!.StringData?.Keys ?? secret.Data.Keys);
            }
            Assert.NotNull(Env(d, "VIGIL_CLUSTER__POSTGRES").ValueFrom?.SecretKeyRef);
            Assert.Equal("kubernetes", Env(d, "VIGIL_CLUSTER__DISCOVERY").Value);
            Assert.Equal("status.podIP", Env(d, "VIGIL_CLUSTER__PUBLICHOST").ValueFrom.FieldRef.FieldPath);
            // ports agree with what the process listens on
            Assert.Equal(int.Parse(PortPattern().Match(Env(d, "VIGIL_URLS").Value).Groups[1].Value), ports["http"]);
            Assert.Equal(int.Parse(Env(d, "VIGIL_CLUSTER__PORT").Value), ports["remoting"]);
            Assert.Equal(int.Parse(Env(d, "VIGIL_CLUSTER__MANAGEMENTPORT").Value), ports["management"]);
            // the management port is the one cluster bootstrap looks for by name
            Assert.True(ports.ContainsKey("management"));
            foreach (var probe in new[] { container.ReadinessProbe, container.LivenessProbe })
            {
                Assert.Equal("/healthz", probe.HttpGet.Path);
                Assert.Equal("http", probe.HttpGet.Port.Value);
            }
            // the grace period covers a graceful leave: the hand-over phase of coordinated shutdown plus the host's stop
            Assert.True(pod.Spec.TerminationGracePeriodSeconds >= 30);
            var labels = pod.Metadata.Labels;
            Assert.Contains(objects.OfType<V1PodDisruptionBudget>(),
                b => b.Spec.MaxUnavailable?.Value == "1" && b.Spec.Selector.MatchLabels.All(l => labels.TryGetValue(l.Key, out var v) && v == l.Value));
            Assert.Equal(new FleetOptions().PodLabelSelector, Env(d, "VIGIL_CLUSTER__PODLABELSELECTOR").Value);
            Assert.Equal("vigil", labels["app"]);
            // the webhook-sealing key: one Secret for every node, copied into the data folder it is read from
            var keyVolume = pod.Spec.Volumes.Single(v => v.Secret is not null);
            Assert.True(secrets.ContainsKey(keyVolume.Secret.SecretName), $"no Secret {keyVolume.Secret.SecretName}");
            var data = container.VolumeMounts.Single(m => m.MountPath == Env(d, "VIGIL_DATADIR").Value);
            Assert.Contains(pod.Spec.InitContainers, c => c.VolumeMounts.Any(m => m.Name == data.Name) && c.VolumeMounts.Any(m => m.Name == keyVolume.Name));
        }
        var service = objects.OfType<V1Service>().Single();
        Assert.All(objects.OfType<V1Deployment>(), d => Assert.True(service.Spec.Selector.All(l => d.Spec.Template.Metadata.Labels[l.Key] == l.Value)));
    }

    [Fact]
    public void Dockerfile_ShimStageBuildsHereAndRunStageCarriesEveryLibraryItLinks()
    {
        var stages = Stages(File.ReadAllText(Path.Combine(Root, "Dockerfile")));
        Assert.Equal(["shim", "build", "run"], stages.Select(s => s.Name));
        Assert.StartsWith("debian:bookworm", stages[0].From); // the Debian this machine runs: its commands run here
        Assert.Equal(stages[0].From, stages[2].From); // the shim runs where it was compiled
        Assert.StartsWith("mcr.microsoft.com/dotnet/sdk:10.0", stages[1].From);
        Assert.Contains(stages[1].Runs, r => r.Contains("src/Vigil.Cli/Vigil.Cli.csproj") && r.Contains("--self-contained"));
        Assert.True(File.Exists(Path.Combine(Root, "src/Vigil.Cli/Vigil.Cli.csproj")));
        Assert.Contains("<AssemblyName>vigil</AssemblyName>", File.ReadAllText(Path.Combine(Root, "src/Vigil.Cli/Vigil.Cli.csproj")));

        // the shim stage's packages exist in this Debian, and its make command builds the shim
        foreach (var package in AptPackages(stages[0]).Concat(AptPackages(stages[2])))
            Assert.True(Run("apt-cache", $"show --no-all-versions {package}").Code == 0, $"no Debian package {package}");
        var make = stages[0].Runs.Single(r => r.StartsWith("make", StringComparison.Ordinal));
        var output = Path.Combine(Path.GetTempPath(), $"vigil-shim-{Guid.NewGuid():N}");
        try
        {
            var built = Run("make", make.Replace("make ", "").Replace("OUT=/shim", $"OUT={output}"), Root);
            Assert.True(built.Code == 0, built.Text);
            var shim = Path.Combine(output, "libvigil_media.so");
            Assert.True(File.Exists(shim));

            // every FFmpeg library the shim links is installed by the run stage
            var linked = LibraryPattern().Matches(Run("ldd", shim).Text).Select(m => m.Groups[1].Value).Where(p => p.Contains("/libav") || p.Contains("/libsw")).ToList();
            Assert.Equal(5, linked.Count);
            var runPackages = AptPackages(stages[2]).ToHashSet();
            foreach (var library in linked)
            {
                // merged /usr: ldd may name /lib/… while dpkg knows /usr/lib/…
                var query = Run("dpkg", $"-S {library}");
                if (query.Code != 0) query = Run("dpkg", $"-S /usr{library}");
                Assert.True(query.Code == 0, query.Text);
                var owner = query.Text.Split(':')[0].Trim();
                Assert.True(runPackages.Contains(owner), $"{library} comes from {owner}, which the run stage does not install");
            }
        }
        finally
        {
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        }
    }

    private static List<object> Load() =>
        Directory.GetFiles(Manifests, "*.yaml").Order().SelectMany(f => KubernetesYaml.LoadAllFromString(File.ReadAllText(f), strict: true)).ToList();

    private static V1EnvVar Env(V1Deployment d, string name) =>
        d.Spec.Template.Spec.Containers[0].Env.SingleOrDefault(e => e.Name == name) ?? throw new Xunit.Sdk.XunitException($"{d.Metadata.Name}: no {name}");

    /// <summary>Whether <c>VIGIL_A__B</c> binds to a settable property path of the service's (or, under CLUSTER, the fleet's) options.</summary>
    private static bool IsOption(string variable)
    {
        var path = variable["VIGIL_".Length..].Split("__");
        var type = typeof(ServiceOptions);
        if (path[0] == "CLUSTER")
        {
            type = typeof(FleetOptions);
            path = path[1..];
        }
        foreach (var part in path)
        {
            if (int.TryParse(part, out _)) continue; // a list index
            var property = type.GetProperties().FirstOrDefault(p => p.Name.Equals(part, StringComparison.OrdinalIgnoreCase) && p.CanWrite);
            if (property is null) return false;
            type = property.PropertyType.IsGenericType ? property.PropertyType.GetGenericArguments()[0] : property.PropertyType;
        }
        return true;
    }

    private sealed record Stage(string Name, string From, List<string> Runs);

    private static List<Stage> Stages(string dockerfile)
    {
        var joined = Regex.Replace(dockerfile, @"\\\r?\n", " ");
        var stages = new List<Stage>();
        foreach (var line in joined.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            var from = Regex.Match(line, @"^FROM\s+(\S+)\s+AS\s+(\S+)$", RegexOptions.IgnoreCase);
            if (from.Success) stages.Add(new Stage(from.Groups[2].Value, from.Groups[1].Value, []));
            else if (line.StartsWith("RUN ", StringComparison.Ordinal))
                stages[^1].Runs.AddRange(line[4..].Split("&&").Select(c => Regex.Replace(c.Trim(), @"\s+", " ")));
        }
        return stages;
    }

    private static IEnumerable<string> AptPackages(Stage stage) =>
        stage.Runs.Where(r => r.StartsWith("apt-get install", StringComparison.Ordinal))
            .SelectMany(r => r.Split(' ').Skip(2).Where(w => !w.StartsWith('-')));

    private static (int Code, string Text) Run(string program, string arguments, string? directory = null)
    {
        var info = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (directory is not null) info.WorkingDirectory = directory;
        using var process = Process.Start(info)!;
        var text = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, text);
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Vigil.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    [GeneratedRegex(@":(\d+)$")]
    private static partial Regex PortPattern();

    [GeneratedRegex(@"=>\s+(\S+)\s+\(0x")]
    private static partial Regex LibraryPattern();
}
