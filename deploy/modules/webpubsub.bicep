// Azure Web PubSub with Chatr's hub: one event handler pointing at the backend's
// `/api/eventHandler`, authenticated with a token of the service's user-assigned identity (no
// access keys: local auth is off), and the backend identity's role to call the data-plane REST API.

@description('Web PubSub resource name, globally unique.')
param name string

@description('Azure region.')
param location string

@description('Pricing tier. Free_F1: 20 connections, 20k messages a day, no SLA.')
@allowed(['Free_F1', 'Standard_S1', 'Premium_P1'])
param sku string = 'Standard_S1'

@description('Units (Standard/Premium): 1,000 concurrent connections each.')
@allowed([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100])
param capacity int = 1

@description('The hub Chatr uses; must match the backend\'s CHATR_WEBPUBSUB_HUB.')
param hubName string = 'chat'

@description('The backend\'s public base URL (https://…), without a trailing slash.')
param backendUrl string

@description('Audience of the tokens the service sends with events (an Entra app ID URI the backend checks).')
param eventHandlerAudience string

@description('Resource id of the user-assigned identity the service gets those tokens with. It needs no role.')
param identityId string

@description('Principal id of the backend\'s managed identity.')
param backendPrincipalId string

param tags object = {}

// Web PubSub Service Owner: the data-plane REST API (send, groups, permissions, tokens).
var webPubSubServiceOwner = '12cf5a90-567b-43ae-8102-96cf46c7d9b4'

resource service 'Microsoft.SignalRService/webPubSub@2024-03-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: sku
    capacity: sku == 'Free_F1' ? 1 : capacity
  }
  // One identity at most (system or user-assigned). A user-assigned one is created before the
  // service and keeps its ids if the service is re-created.
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    disableLocalAuth: true
    disableAadAuth: false
    publicNetworkAccess: 'Enabled'
    tls: { clientCertEnabled: false }
  }
}

resource hub 'Microsoft.SignalRService/webPubSub/hubs@2024-03-01' = {
  parent: service
  name: hubName
  properties: {
    // Chatr's backend is the only upstream: it vets connect, tracks presence and handles every
    // user event (chat operations, messages, typing).
    eventHandlers: [
      {
        urlTemplate: '${backendUrl}/api/eventHandler'
        userEventPattern: '*'
        systemEvents: ['connect', 'connected', 'disconnected']
        auth: {
          type: 'ManagedIdentity'
          managedIdentity: { resource: eventHandlerAudience }
        }
      }
    ]
    // Clients may not connect anonymously; the backend mints their tokens.
    anonymousConnectPolicy: 'deny'
  }
}

resource backendOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: service
  name: guid(service.id, backendPrincipalId, webPubSubServiceOwner)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', webPubSubServiceOwner)
    principalId: backendPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output hostName string = service.properties.hostName
output endpoint string = 'https://${service.properties.hostName}'
