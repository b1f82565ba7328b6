package dev.latentpipeline.embedded;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.EnumSet;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;

import org.gaul.s3proxy.S3Proxy;

/**
 * Puts a servlet filter in front of S3Proxy's request handler. S3Proxy builds its (shaded) Jetty server privately
 * and offers no hook, so this reaches it by reflection and calls the servlet context's
 * {@code addFilter(Filter, String, EnumSet)}, whose types are the unshaded Jakarta Servlet API. Must run before
 * {@link S3Proxy#start()}. Fails loudly if a future S3Proxy moves things, rather than running unchecked.
 */
final class S3ProxyFilters {
    private S3ProxyFilters() {
    }

    static void install(S3Proxy proxy, Filter filter) {
        try {
            Field serverField = S3Proxy.class.getDeclaredField("server");
            serverField.setAccessible(true);
            Object handler = serverField.get(proxy);
            // Server -> GracefulHandler -> ServletContextHandler, each a Handler.Wrapper with getHandler().
            for (int depth = 0; handler != null && depth < 8; depth++) {
                Method addFilter = publicMethod(handler, "addFilter", Filter.class, String.class, EnumSet.class);
                if (addFilter != null) {
                    addFilter.invoke(handler, filter, "/*", EnumSet.of(DispatcherType.REQUEST));
                    return;
                }
                Method getHandler = publicMethod(handler, "getHandler");
                handler = getHandler == null ? null : getHandler.invoke(handler);
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("Cannot put " + filter.getClass().getSimpleName()
                    + " in front of S3Proxy " + S3Proxy.class.getPackage().getImplementationVersion()
                    + ": its server layout changed", e);
        }
        throw new IllegalStateException("Cannot put " + filter.getClass().getSimpleName()
                + " in front of S3Proxy: no servlet context found under its server");
    }

    private static Method publicMethod(Object target, String name, Class<?>... parameterTypes) {
        try {
            return target.getClass().getMethod(name, parameterTypes);
        } catch (NoSuchMethodException e) {
            return null;
        }
    }
}
