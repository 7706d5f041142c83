// Creates Kafka ACLs from lines "principal resourceType patternType name operation[,operation]"
// in Kafka's words (topic|group, literal|prefixed, Read|Write|Describe...)
// with the Admin API (aiokafka's CreateAcls versions are older than Kafka 4 accepts).
// Run as a single source file: java -cp 'deploy/local/.lib/<version>/*' CreateAcls.java
// CLIENT_PROPERTIES ACL_FILE
import java.io.FileReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public class CreateAcls {
    public static void main(String[] args) throws Exception {
        Properties client = new Properties();
        try (FileReader reader = new FileReader(args[0])) {
            client.load(reader);
        }
        List<AclBinding> bindings = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(args[1]))) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.trim().split("\\s+");
            ResourcePattern pattern = new ResourcePattern(
                ResourceType.valueOf(f[1].toUpperCase(Locale.ROOT)),
                f[3],
                PatternType.valueOf(f[2].toUpperCase(Locale.ROOT)));
            for (String operation : f[4].split(",")) {
                bindings.add(new AclBinding(pattern, new AccessControlEntry(
                    f[0], "*", AclOperation.valueOf(operation.toUpperCase(Locale.ROOT)),
                    AclPermissionType.ALLOW)));
            }
        }
        try (Admin admin = Admin.create(client)) {
            admin.createAcls(bindings).all().get();
        }
        System.out.println("created " + bindings.size() + " ACLs");
    }
}
