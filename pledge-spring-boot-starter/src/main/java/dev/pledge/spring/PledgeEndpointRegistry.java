package dev.pledge.spring;

import dev.pledge.client.participant.ParticipantRequest;
import dev.pledge.core.TransactionalMessage;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.sql.Connection;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.core.MethodIntrospector;
import org.springframework.core.annotation.AnnotatedElementUtils;

/**
 * Collects the bean methods annotated with {@link PledgeEndpoint} or {@link PledgeSubscriber} as
 * the beans are made. A method of the wrong shape, or two methods on one path, fail the start with
 * a message naming them. It depends on nothing, so registering it early pulls no other bean
 * forward.
 */
final class PledgeEndpointRegistry implements BeanPostProcessor {
  /** One annotated method and its bean: an op ({@code endpoint}) or a subscriber (null). */
  record Registered(String path, Object bean, Method method, PledgeEndpoint endpoint) {
    boolean isSubscriber() {
      return endpoint == null;
    }
  }

  private final Map<String, Registered> routes = new LinkedHashMap<>();

  @Override
  public Object postProcessAfterInitialization(Object bean, String beanName) {
    Class<?> type = AopUtils.getTargetClass(bean);
    Map<Method, PledgeEndpoint> found =
        MethodIntrospector.selectMethods(
            type,
            (MethodIntrospector.MetadataLookup<PledgeEndpoint>)
                method -> AnnotatedElementUtils.findMergedAnnotation(method, PledgeEndpoint.class));
    for (Map.Entry<Method, PledgeEndpoint> entry : found.entrySet()) {
      register(type, bean, entry.getKey(), entry.getValue());
    }
    Map<Method, PledgeSubscriber> subscribers =
        MethodIntrospector.selectMethods(
            type,
            (MethodIntrospector.MetadataLookup<PledgeSubscriber>)
                method ->
                    AnnotatedElementUtils.findMergedAnnotation(method, PledgeSubscriber.class));
    for (Map.Entry<Method, PledgeSubscriber> entry : subscribers.entrySet()) {
      registerSubscriber(type, bean, entry.getKey(), entry.getValue());
    }
    return bean;
  }

  private synchronized void registerSubscriber(
      Class<?> type, Object bean, Method method, PledgeSubscriber subscriber) {
    Class<?>[] parameters = method.getParameterTypes();
    if (parameters.length != 2
        || parameters[0] != Connection.class
        || parameters[1] != TransactionalMessage.class
        || Modifier.isStatic(method.getModifiers())) {
      throw new IllegalStateException(
          "@PledgeSubscriber "
              + type.getName()
              + "."
              + method.getName()
              + " must be an instance method taking (Connection, TransactionalMessage)");
    }
    add(subscriber.path(), new Registered(subscriber.path(), bean, method, null));
  }

  private synchronized void register(
      Class<?> type, Object bean, Method method, PledgeEndpoint endpoint) {
    Class<?>[] parameters = method.getParameterTypes();
    if (parameters.length != 2
        || parameters[0] != Connection.class
        || parameters[1] != ParticipantRequest.class
        || Modifier.isStatic(method.getModifiers())) {
      throw new IllegalStateException(
          "@PledgeEndpoint "
              + type.getName()
              + "."
              + method.getName()
              + " must be an instance method taking (Connection, ParticipantRequest)");
    }
    add(endpoint.path(), new Registered(endpoint.path(), bean, method, endpoint));
  }

  private void add(String path, Registered route) {
    if (!path.startsWith("/")) {
      throw new IllegalStateException(
          "@PledgeEndpoint and @PledgeSubscriber paths must start with /, was \"" + path + "\"");
    }
    Registered previous = routes.putIfAbsent(path, route);
    if (previous != null) {
      throw new IllegalStateException(
          "the path " + path + " is on both " + previous.method() + " and " + route.method());
    }
    route.method().setAccessible(true);
  }

  synchronized Map<String, Registered> routes() {
    return Map.copyOf(routes);
  }
}
